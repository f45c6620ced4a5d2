/**
 * The NGSI-LD broker on PostgreSQL, each figure against a baseline measured in the same run: (a)
 * writes against plain pg inserts of the same rows, (b) reads against a bare route answering from
 * memory, (c) query latency at 100k and 1M entities against the same SQL sent directly, (d)
 * notification latency. Machi runs in child processes (rate limiting on, and a second one with it
 * off); the load comes from this process over loopback only.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDb } from '../../src/platform/index.ts';
import { type Child, startChild } from '../child.ts';
import { BROKER_PARTS, type BrokerBench, type BrokerPart, type BrokerSettings, hasRoute } from './bench.ts';
import { createBenchDatabase, dropBenchDatabase } from './database.ts';
import { coreContext } from './entity.ts';
import { measureNotifications } from './notify.ts';
import { measureQueries } from './queries.ts';
import { measureReads } from './reads.ts';
import type { BrokerRow } from './report.ts';
import { measureWrites } from './writes.ts';

export type { BrokerRow } from './report.ts';
export { formatBrokerTable } from './report.ts';

export interface BrokerOptions {
  /** A PostgreSQL server with PostGIS, as a user that may create databases. */
  databaseUrl: string;
  settings: BrokerSettings;
  /** Where the EXPLAIN ANALYZE output of the timed queries is written. */
  plansFile: string;
  /** Leave the database in place for EXPLAIN and index experiments (BENCH_BROKER_KEEP=1). */
  keepDatabase?: boolean;
  log: (line: string) => void;
}

interface Announcement {
  port: number;
  worker: boolean;
}

/** `BENCH_BROKER_PARTS=writes,reads`: some of (a) writes, (b) reads, (d) notify, (c) queries. */
export function parseParts(text: string | undefined): Set<BrokerPart> {
  const names = text ? text.split(',').map((s) => s.trim()) : [...BROKER_PARTS];
  const unknown = names.filter((n) => !(BROKER_PARTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(`BENCH_BROKER_PARTS may list ${BROKER_PARTS.join(', ')}; not ${unknown.join(', ')}`);
  }
  return new Set(names as BrokerPart[]);
}

/** `BENCH_BROKER_ROWS=100000,1000000`: the sizes at which queries are timed. */
export function parseRows(text: string | undefined, fallback: number[]): number[] {
  if (!text) {
    return fallback;
  }
  const sizes = text.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1000 || n > 10_000_000)) {
    throw new Error(`BENCH_BROKER_ROWS must list entity counts from 1000 to 10000000, got ${text}`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

async function findRoutes(base: string): Promise<BrokerBench['routes']> {
  const probe = encodeURIComponent('urn:ngsi-ld:Shelter:route-probe');
  return {
    upsert: await hasRoute(base, 'POST', '/ngsi-ld/v1/entityOperations/upsert', '[]'),
    subscriptions: await hasRoute(base, 'POST', '/ngsi-ld/v1/subscriptions', '{}'),
    patchAttrs: await hasRoute(base, 'PATCH', `/ngsi-ld/v1/entities/${probe}/attrs`, '{}'),
  };
}

export async function runBrokerBenchmarks(options: BrokerOptions): Promise<BrokerRow[]> {
  const { log, settings } = options;
  const children: Child<Announcement>[] = [];
  const databaseUrl = await createBenchDatabase(options.databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: settings.connections + 2 });
  const db = await openDb({ databaseUrl, poolSize: 2 });
  try {
    const env = { MACHI_BENCH_DATABASE_URL: databaseUrl };
    const machi = await startChild<Announcement>('./broker/server.ts', ['machi'], env);
    children.push(machi);
    const unlimited = await startChild<Announcement>('./broker/server.ts', ['machi'], {
      ...env,
      BENCH_RATE_LIMIT: 'off',
    });
    children.push(unlimited);
    const base = `http://127.0.0.1:${machi.message.port}`;
    const bench: BrokerBench = {
      machi: base,
      machiUnlimited: `http://127.0.0.1:${unlimited.message.port}`,
      worker: machi.message.worker,
      routes: await findRoutes(base),
      pool,
      ctx: await coreContext(db),
      tag: randomBytes(4).toString('hex'),
      settings,
      log,
    };
    log(`  database ${new URL(databaseUrl).pathname.slice(1)}; routes ${JSON.stringify(bench.routes)}`);
    const { parts } = settings;
    const rows: BrokerRow[] = [];
    // (b) reads the entities (a) created.
    if (parts.has('writes') || parts.has('reads')) rows.push(...(await measureWrites(bench)));
    if (parts.has('reads')) rows.push(...(await measureReads(bench)));
    // The second server's worker would take notification jobs too; (d) and (c) need only one server.
    await unlimited.stop();
    if (parts.has('notify')) rows.push(...(await measureNotifications(bench)));
    if (parts.has('queries')) rows.push(...(await measureQueries(bench, options.plansFile)));
    return rows;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await pool.end();
    await db.close();
    if (options.keepDatabase) {
      log(`  kept ${databaseUrl} (BENCH_BROKER_KEEP): drop it when done`);
    } else {
      await dropBenchDatabase(options.databaseUrl, databaseUrl);
    }
  }
}
