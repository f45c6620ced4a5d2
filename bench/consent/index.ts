/**
 * What consent costs a broker read: the policy decision point and the access log, measured as the
 * cost of reading residents' personal records over the cost of the same read of public records of
 * the same shape, by the same caller, through the whole stack over HTTP (token check, rate limit,
 * tenant, rendering alike). (1) GET /entities/{id} by a service acting for the resident who owns
 * the record, with `Machi-Purpose` under the resident's consent; (2) a query returning 1,000
 * residents' records by the service acting as itself. On the embedded database, and on PostgreSQL
 * when a server is given. Machi runs in a child process; the load comes from here.
 */
import { createBenchDatabase, dropBenchDatabase } from '../broker/database.ts';
import {
  bestOf,
  type Contender,
  fetchOk,
  httpThroughput,
  type Latency,
  sequentialLatency,
} from '../broker/load.ts';
import type { BrokerMeasure, BrokerRow } from '../broker/report.ts';
import { startChild } from '../child.ts';
import { type Announcement, PERSONAL_TYPE, PUBLIC_TYPE, PURPOSE, TENANT } from './shared.ts';
import { discover, residentToken, serviceToken } from './tokens.ts';

export interface ConsentSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  /** Residents with a personal record and consent: the query's answer. */
  residents: number;
  /** Residents who log in, so that (1) reads the records of several residents as their services. */
  logins: number;
  /** Reads by id timed one at a time, per contender and round (fewer if `querySeconds` runs out). */
  reads: number;
  /** Queries timed per contender and round (fewer if `querySeconds` runs out). */
  queries: number;
  querySeconds: number;
}

export interface ConsentOptions {
  /** A PostgreSQL server to also run on (a temporary database is created and dropped). */
  databaseUrl?: string | undefined;
  settings: ConsentSettings;
  log: (line: string) => void;
}

/** The cost of a personal read over the public one may be at most this. */
const TARGET = 1.5;

export const CONSENT_KEY =
  'ratio = cost of the personal read / cost of the public one: public req/s ÷ personal req/s, or personal p50 ÷ public p50; above 1× costs more.';

interface Reader {
  token: string;
  personalId: string;
  publicId: string;
}

const headers = (token: string) => ({
  accept: 'application/json',
  authorization: `Bearer ${token}`,
  'ngsild-tenant': TENANT,
  'machi-purpose': PURPOSE,
});

const entityPath = (id: string) => `/ngsi-ld/v1/entities/${encodeURIComponent(id)}`;
const queryPath = (type: string, limit: number) => `/ngsi-ld/v1/entities?type=${type}&limit=${limit}`;

async function accessLogLines(base: string, machi: Announcement): Promise<number> {
  return (JSON.parse(await fetchOk(`${base}${machi.accessLogPath}`)) as { lines: number }).lines;
}

/** Each reader's records: both answer, the same attributes, and each personal read left one log line. */
async function checkReads(base: string, machi: Announcement, readers: Reader[]): Promise<number> {
  const before = await accessLogLines(base, machi);
  let bytes = 0;
  for (const reader of readers) {
    const personal = JSON.parse(
      await fetchOk(`${base}${entityPath(reader.personalId)}`, { headers: headers(reader.token) }),
    ) as Record<string, unknown>;
    const open = JSON.parse(
      await fetchOk(`${base}${entityPath(reader.publicId)}`, { headers: headers(reader.token) }),
    ) as Record<string, unknown>;
    const names = (e: Record<string, unknown>) => Object.keys(e).sort().join();
    if (names(personal) !== names(open) || personal.clinicNote === undefined) {
      throw new Error(`the personal record shows ${names(personal)}, the public one ${names(open)}`);
    }
    bytes = JSON.stringify(personal).length;
  }
  const logged = (await accessLogLines(base, machi)) - before;
  if (logged !== readers.length) {
    throw new Error(`${readers.length} personal reads left ${logged} access-log lines`);
  }
  return bytes;
}

/** Both queries answer every record (all attributes of each), and the personal one logs each read. */
async function checkQueries(base: string, machi: Announcement, token: string): Promise<void> {
  const before = await accessLogLines(base, machi);
  for (const type of [PERSONAL_TYPE, PUBLIC_TYPE]) {
    const found = JSON.parse(
      await fetchOk(`${base}${queryPath(type, machi.residents)}`, { headers: headers(token) }),
    ) as Record<string, unknown>[];
    if (found.length !== machi.residents || found.some((e) => e.clinicNote === undefined)) {
      throw new Error(`the ${type} query found ${found.length} of ${machi.residents}, or hid attributes`);
    }
  }
  const logged = (await accessLogLines(base, machi)) - before;
  if (logged !== machi.residents) {
    throw new Error(`a query of ${machi.residents} personal records left ${logged} access-log lines`);
  }
}

function reads(
  base: string,
  label: string,
  readers: Reader[],
  which: 'personalId' | 'publicId',
  connections: number,
): Contender {
  return {
    label,
    run: (seconds) =>
      httpThroughput(
        {
          url: `${base}${entityPath(readers[0]?.[which] ?? '')}`,
          next: () => {
            const reader = readers[Math.floor(Math.random() * readers.length)] as Reader;
            return { path: entityPath(reader[which]), headers: headers(reader.token) };
          },
        },
        connections,
        seconds,
      ),
  };
}

interface Timed {
  label: string;
  /** What the log lines call it. */
  name: string;
  run: () => Promise<unknown>;
}

/** One request at a time, the two in turn for `rounds`; the round with the lower median counts. */
async function latencies(
  contenders: { open: Timed; personal: Timed },
  limits: { count: number; seconds: number; rounds: number },
  log: (line: string) => void,
): Promise<{ open: BrokerMeasure; personal: BrokerMeasure }> {
  const runs: Record<'open' | 'personal', Latency[]> = { open: [], personal: [] };
  for (let round = 1; round <= limits.rounds; round++) {
    for (const key of ['open', 'personal'] as const) {
      const latency = await sequentialLatency(contenders[key].run, limits.count, limits.seconds, 3);
      runs[key].push(latency);
      log(
        `  round ${round}: ${contenders[key].name}: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms (${latency.count})`,
      );
    }
  }
  const best = (key: 'open' | 'personal'): BrokerMeasure => {
    const top = runs[key].reduce((a, b) => (b.p50Ms < a.p50Ms ? b : a));
    return {
      label: contenders[key].label,
      value: top.p99Ms,
      p50Ms: top.p50Ms,
      p99Ms: top.p99Ms,
      runs: runs[key].map((r) => Math.round(r.p50Ms * 100) / 100),
      count: top.count,
    };
  };
  return { open: best('open'), personal: best('personal') };
}

/** (1) one at a time: each reader's records in turn. */
function readOneByOne(base: string, readers: Reader[]): { open: Timed; personal: Timed } {
  const timed = (which: 'personalId' | 'publicId', label: string, name: string): Timed => {
    let next = 0;
    return {
      label,
      name,
      run: () => {
        const reader = readers[next++ % readers.length] as Reader;
        return fetchOk(`${base}${entityPath(reader[which])}`, { headers: headers(reader.token) });
      },
    };
  };
  return {
    open: timed('publicId', 'public record', 'GET public record'),
    personal: timed('personalId', "the resident's record", "GET resident's record"),
  };
}

/** (2) the query of every record of one type. */
function queryAll(base: string, machi: Announcement, token: string): { open: Timed; personal: Timed } {
  const timed = (type: string, label: string): Timed => ({
    label,
    name: `${type} query`,
    run: () => fetchOk(`${base}${queryPath(type, machi.residents)}`, { headers: headers(token) }),
  });
  const count = machi.residents.toLocaleString('en-US');
  return {
    open: timed(PUBLIC_TYPE, `${count} public records`),
    personal: timed(PERSONAL_TYPE, `${count} residents' records`),
  };
}

function costRow(
  name: string,
  unit: 'req/s' | 'ms',
  baseline: BrokerMeasure,
  subject: BrokerMeasure,
  note: string,
): BrokerRow {
  const ratio =
    unit === 'req/s'
      ? baseline.value / subject.value
      : (subject.p50Ms ?? Number.NaN) / (baseline.p50Ms ?? Number.NaN);
  const rounded = Math.round(ratio * 1000) / 1000;
  return {
    group: 'consent',
    name,
    unit,
    target: `≤ ${TARGET}×`,
    baseline,
    subject,
    ratio: rounded,
    met: rounded <= TARGET,
    note,
  };
}

async function runOn(
  engine: string,
  databaseUrl: string | undefined,
  options: ConsentOptions,
): Promise<BrokerRow[]> {
  const { settings, log } = options;
  const machi = await startChild<Announcement>('./consent/server.ts', [], {
    // In the environment, not the arguments: a password must not show in the process list.
    MACHI_BENCH_DATABASE_URL: databaseUrl ?? '',
    BENCH_CONSENT_RESIDENTS: String(settings.residents),
    BENCH_CONSENT_LOGINS: String(settings.logins),
  });
  try {
    const m = machi.message;
    const base = `http://127.0.0.1:${m.port}`;
    const config = await discover(m);
    const readers: Reader[] = [];
    for (const login of m.logins) {
      readers.push({ ...login, token: await residentToken(config, base, login.email) });
    }
    // Both checks before any load: a request autocannon left in flight would count in the log.
    const bytes = await checkReads(base, m, readers);
    const token = await serviceToken(config);
    await checkQueries(base, m, token);
    log(
      `  ${engine}: ${m.residents} residents; (1) GET one record (${bytes} bytes) by the service of ${readers.length} residents, ${settings.connections} connections`,
    );
    const read = await bestOf(
      {
        open: reads(base, 'public record', readers, 'publicId', settings.connections),
        personal: reads(base, "the resident's record", readers, 'personalId', settings.connections),
      },
      settings,
      log,
    );
    log(`  ${engine}: (1) the same, one request at a time`);
    const single = await latencies(
      readOneByOne(base, readers),
      { count: settings.reads, seconds: settings.querySeconds, rounds: settings.rounds },
      log,
    );
    log(`  ${engine}: (2) GET ?type=…&limit=${m.residents} by the service as itself, one at a time`);
    const query = await latencies(
      queryAll(base, m, token),
      { count: settings.queries, seconds: settings.querySeconds, rounds: settings.rounds },
      log,
    );
    const perRead = 1000 / read.personal.value - 1000 / read.open.value;
    const perQuery = (query.personal.p50Ms ?? 0) - (query.open.p50Ms ?? 0);
    const perSingle = (single.personal.p50Ms ?? 0) - (single.open.p50Ms ?? 0);
    return [
      costRow(
        `consent (1) GET /entities/{id}, acting for the resident (${engine})`,
        'req/s',
        read.open,
        read.personal,
        `consent takes about ${perRead.toFixed(2)} ms more of the server per read (1 s ÷ req/s): owner, categories, one decision per category, the access-log append`,
      ),
      costRow(
        `consent (1) the same GET, one request at a time (${engine})`,
        'ms',
        single.open,
        single.personal,
        `consent adds ${perSingle.toFixed(2)} ms per read at the median, the commit of the access-log line included`,
      ),
      costRow(
        `consent (2) query of ${m.residents.toLocaleString('en-US')} residents, service as itself (${engine})`,
        'ms',
        query.open,
        query.personal,
        `consent adds ${perQuery.toFixed(1)} ms per query at the median: decideMany per category, owners, ${m.residents} access-log lines`,
      ),
    ];
  } finally {
    await machi.stop();
  }
}

export async function runConsentBenchmarks(options: ConsentOptions): Promise<BrokerRow[]> {
  const rows = await runOn('PGlite', undefined, options);
  if (options.databaseUrl) {
    const databaseUrl = await createBenchDatabase(options.databaseUrl);
    try {
      rows.push(...(await runOn('PostgreSQL', databaseUrl, options)));
    } finally {
      await dropBenchDatabase(options.databaseUrl, databaseUrl);
    }
  }
  return rows;
}
