/**
 * HTTP throughput: Machi's routes through the full plugin stack against a bare Fastify app with one
 * route giving the same answer. Each server runs in its own process; autocannon runs here. Targets
 * are run in turn, `rounds` times, and the best run of each counts, so that a burst of other work
 * on a small machine hurts no target more than another.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { type Child, startChild } from './child.ts';
import { type Comparison, compare, type Measure } from './result.ts';

export interface HttpOptions {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  /** A PostgreSQL server to also run against (a temporary database is created and dropped). */
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}

interface Announcement {
  port: number;
  rateLimitedPath?: string;
}

interface Target {
  /** The comparison's name in the table (subjects only). */
  name: string;
  /** The server and route, as progress lines and the table show it. */
  label: string;
  url: string;
  /** Whether the route counts the request in the rate-limit table. */
  rateLimited: boolean;
  note?: string;
}

interface Run {
  requestsPerSecond: number;
  p99Ms: number;
}

async function load(target: Target, seconds: number, connections: number): Promise<Run> {
  const result = await autocannon({ url: target.url, connections, duration: seconds });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    throw new Error(`${target.label}: ${failed} of ${result.requests.total} requests failed or were refused`);
  }
  return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99 };
}

/** Checks that each target answers 200 and is (or is not) rate limited, as its name says. */
async function verify(target: Target): Promise<void> {
  const response = await fetch(target.url);
  await response.arrayBuffer();
  const limited = response.headers.has('x-ratelimit-limit');
  if (response.status !== 200 || limited !== target.rateLimited) {
    throw new Error(`${target.label} answered ${response.status}, rate limited: ${limited}`);
  }
}

async function createDatabase(adminUrl: string): Promise<string> {
  const name = `machi_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
  } finally {
    await admin.end();
  }
}

function machiTargets(server: Child<Announcement>, engine: string): Target[] {
  const base = `http://127.0.0.1:${server.message.port}`;
  return [
    {
      name: `HTTP rate-limited route (${engine})`,
      label: `Machi ${engine} rate-limited route`,
      url: `${base}${server.message.rateLimitedPath}`,
      rateLimited: true,
      note: 'the /healthz answer on a route the bench adds without the exemption: one rate-limit upsert per request',
    },
    {
      name: `HTTP /readyz (${engine})`,
      label: `Machi ${engine} /readyz`,
      url: `${base}/readyz`,
      rateLimited: false,
      note: 'one select on platform.migrations per request; exempt from rate limiting',
    },
  ];
}

function healthzTarget(server: Child<Announcement>): Target {
  return {
    name: 'HTTP /healthz, full stack',
    label: 'Machi /healthz',
    url: `http://127.0.0.1:${server.message.port}/healthz`,
    rateLimited: false,
    note: 'helmet, request id, metrics, problem handlers; /healthz is exempt from rate limiting, so no database work',
  };
}

/** Runs every target in turn, `rounds` times; keeps the best run of each. */
async function measureAll(targets: Target[], options: HttpOptions): Promise<Map<Target, Measure>> {
  const runs = new Map<Target, Run[]>(targets.map((t) => [t, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const target of targets) {
      await load(target, options.warmupSeconds, options.connections);
      const run = await load(target, options.durationSeconds, options.connections);
      runs.get(target)?.push(run);
      options.log(
        `  round ${round}: ${target.label}: ${Math.round(run.requestsPerSecond)} req/s, p99 ${run.p99Ms} ms`,
      );
    }
  }
  const best = new Map<Target, Measure>();
  for (const [target, list] of runs) {
    const top = list.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    best.set(target, {
      label: target.label,
      value: top.requestsPerSecond,
      p99Ms: top.p99Ms,
      runs: list.map((r) => r.requestsPerSecond),
    });
  }
  return best;
}

export async function runHttpBenchmarks(options: HttpOptions): Promise<Comparison[]> {
  const children: Child<Announcement>[] = [];
  let temporaryDb: string | undefined;
  try {
    const bare = await startChild<Announcement>('./http-server.ts', ['bare']);
    children.push(bare);
    const embedded = await startChild<Announcement>('./http-server.ts', ['machi'], {
      MACHI_BENCH_DATABASE_URL: '',
    });
    children.push(embedded);
    const baseline: Target = {
      name: 'baseline',
      label: 'bare Fastify',
      url: `http://127.0.0.1:${bare.message.port}/`,
      rateLimited: false,
    };
    const subjects = [healthzTarget(embedded), ...machiTargets(embedded, 'PGlite')];
    if (options.databaseUrl) {
      temporaryDb = await createDatabase(options.databaseUrl);
      const server = await startChild<Announcement>('./http-server.ts', ['machi'], {
        // In the environment, not the arguments: a password must not show in the process list.
        MACHI_BENCH_DATABASE_URL: temporaryDb,
      });
      children.push(server);
      subjects.push(...machiTargets(server, 'PostgreSQL'));
    }
    for (const target of [baseline, ...subjects]) {
      await verify(target);
    }
    const measured = await measureAll([baseline, ...subjects], options);
    const base = measured.get(baseline) as Measure;
    return subjects.map((target) =>
      compare('http', target.name, 'req/s', base, measured.get(target) as Measure, target.note),
    );
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    if (options.databaseUrl && temporaryDb) {
      await dropDatabase(options.databaseUrl, temporaryDb);
    }
  }
}
