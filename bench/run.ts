/**
 * `npm run bench [-- http|startup|identity|broker|consent]`: runs each benchmark in turn, prints a table of
 * ratios against baselines measured in the same run, and writes every figure to bench/results/latest.json.
 * Set BENCH_DATABASE_URL (a PostgreSQL server with PostGIS, as a user that may create databases)
 * to also run the HTTP and consent benchmarks on PostgreSQL, and the broker benchmark, which needs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type BrokerRow,
  formatBrokerTable,
  parseParts,
  parseRows,
  runBrokerBenchmarks,
} from './broker/index.ts';
import { CONSENT_KEY, runConsentBenchmarks } from './consent/index.ts';
import { runHttpBenchmarks } from './http.ts';
import { runIdentityBenchmarks } from './identity/index.ts';
import { type Comparison, formatTable } from './result.ts';
import { runStartupBenchmarks } from './startup.ts';

const SETTINGS = {
  http: { connections: 10, warmupSeconds: 1, durationSeconds: 3, rounds: 2 },
  startup: { runs: 3 },
  identity: { connections: 10, durationSeconds: 3, rounds: 2, codes: 600 },
  broker: {
    connections: 10,
    warmupSeconds: 1,
    durationSeconds: 4,
    rounds: 2,
    batchSize: 100,
    rows: parseRows(process.env.BENCH_BROKER_ROWS, [100_000, 1_000_000]),
    latencyCount: 300,
    latencySeconds: 20,
    notifications: 200,
    parts: parseParts(process.env.BENCH_BROKER_PARTS),
  },
  consent: {
    connections: 10,
    warmupSeconds: 1,
    durationSeconds: 4,
    rounds: 2,
    residents: 1000,
    logins: 10,
    reads: 300,
    queries: 60,
    querySeconds: 15,
  },
};

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const PLANS = fileURLToPath(new URL('./results/broker-plans.txt', import.meta.url));
const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The broker's rows carry a target each, so they have a table of their own; so do consent's. */
const brokerRows: BrokerRow[] = [];
const consentRows: BrokerRow[] = [];

const benchmarks: Record<string, () => Promise<Comparison[]>> = {
  http: () => runHttpBenchmarks({ ...SETTINGS.http, databaseUrl, log }),
  startup: () => runStartupBenchmarks({ ...SETTINGS.startup, log }),
  identity: () => runIdentityBenchmarks({ ...SETTINGS.identity, databaseUrl, log }),
  broker: async () => {
    if (!databaseUrl) {
      throw new Error('it needs PostgreSQL: set BENCH_DATABASE_URL');
    }
    brokerRows.push(
      ...(await runBrokerBenchmarks({
        databaseUrl,
        settings: SETTINGS.broker,
        plansFile: PLANS,
        keepDatabase: process.env.BENCH_BROKER_KEEP === '1',
        log,
      })),
    );
    return [];
  },
  consent: async () => {
    consentRows.push(...(await runConsentBenchmarks({ databaseUrl, settings: SETTINGS.consent, log })));
    return [];
  },
};

/** Benchmarks that run only when BENCH_DATABASE_URL is set (or when named on the command line). */
const needDatabase = new Set(['broker']);

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  log(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const comparisons: Comparison[] = [];
const failed: string[] = [];
for (const [name, run] of Object.entries(benchmarks)) {
  if (chosen.length > 0 && !chosen.includes(name)) {
    continue;
  }
  if (chosen.length === 0 && needDatabase.has(name) && !databaseUrl) {
    log(`${name}: skipped, it needs PostgreSQL with PostGIS; set BENCH_DATABASE_URL to run it`);
    continue;
  }
  log(`${name}…`);
  try {
    comparisons.push(...(await run()));
  } catch (error) {
    // The other benchmarks still tell something; the exit code says that one failed.
    log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    failed.push(name);
    process.exitCode = 1;
  }
}
const seconds = Math.round((performance.now() - started) / 1000);

const cpus = os.cpus();
const machine = {
  cores: cpus.length,
  cpu: cpus[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`,
  node: process.version,
};

if (comparisons.length > 0) {
  process.stdout.write(`\n${formatTable(comparisons)}\n`);
}
if (brokerRows.length > 0) {
  process.stdout.write(`\n${formatBrokerTable(brokerRows)}\n`);
}
if (consentRows.length > 0) {
  process.stdout.write(`\n${formatBrokerTable(consentRows, CONSENT_KEY)}\n`);
}
process.stdout.write(
  `\n${machine.cores} cores (${machine.cpu}), Node ${machine.node}; ${seconds} s in all. Written to ${RESULTS}\n`,
);

/** Indented JSON with lists of numbers on one line, as `biome check` formats it. */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g,
    (_, list: string) => `[${list.split(/,\s+/).join(', ')}]`,
  );
}

fs.mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
fs.writeFileSync(
  RESULTS,
  `${toJson({ date: new Date().toISOString(), machine, settings: SETTINGS, seconds, failed, comparisons, broker: brokerRows, consent: consentRows })}\n`,
);
