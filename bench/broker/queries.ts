/**
 * (c) Query latency at 100k and 1M entities: a `type + q` query and a `near` geo-query, limit 20,
 * one request at a time. The rows are loaded with SQL (generate_series over the broker's own stored
 * form, plus broker.geo), then vacuumed and analysed. The baseline is the very SQL the broker sends
 * for the same request, run with pg under the same role and tenant setting, timed alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { compileGeoQuery, parseGeoQuery } from '../../src/broker/query/geo-query.ts';
import { parseQ } from '../../src/broker/query/q-parser.ts';
import { compileQ } from '../../src/broker/query/q-sql.ts';
import { SqlParams } from '../../src/broker/query/sql-params.ts';
import { type BrokerBench, READ_HEADERS } from './bench.ts';
import {
  BULK_ENTITIES_SQL,
  BULK_GEO_SQL,
  bulkId,
  ENTITY_TYPE,
  randomPoint,
  shelterBody,
  storedForm,
  TENANT,
  termsOf,
} from './entity.ts';
import { fetchOk, type Latency, sequentialLatency } from './load.ts';
import { type BrokerRow, latencyRow } from './report.ts';

const TARGET_P99_MS = 50;
const LIMIT = 20;
const CHUNK = 100_000;
const PREFIX = 'urn:ngsi-ld:Shelter:bulk-';
export const Q = 'capacity>500;status=="open"';
export const NEAR_METRES = 500;

interface Query {
  name: string;
  /** Query-string parameters of one request (a fresh point for every near query). */
  params: () => Record<string, string>;
}

const QUERIES: Query[] = [
  { name: `type + q (${Q})`, params: () => ({ type: ENTITY_TYPE, q: Q }) },
  {
    name: `near;maxDistance==${NEAR_METRES}`,
    params: () => ({
      type: ENTITY_TYPE,
      georel: `near;maxDistance==${NEAR_METRES}`,
      geometry: 'Point',
      coordinates: JSON.stringify(randomPoint(0.09)),
    }),
  },
];

/** The statement `GET /entities` runs for these parameters, as entity-routes.ts and store.ts build it. */
export function compiledSql(
  bench: BrokerBench,
  query: Record<string, string>,
): { sql: string; values: unknown[] } {
  const params = new SqlParams();
  const where: string[] = [];
  const expand = bench.ctx.expand;
  if (query.q !== undefined) {
    where.push(compileQ(parseQ(query.q), { params, expand }));
  }
  const geo = parseGeoQuery(query);
  if (geo) {
    where.push(compileGeoQuery(geo, { params, expand }));
  }
  where.push(`e.types && ${params.add([expand(query.type ?? ENTITY_TYPE)])}::text[]`);
  const sql = `select e.id, e.types, e.scopes, e.attrs, e.created_at, e.modified_at from broker.entities e
    where ${where.join(' and ')} order by e.id limit ${params.add(LIMIT)} offset ${params.add(0)}`;
  return { sql, values: params.values };
}

/** Loads bulk entities up to `size` (those below `from` exist already), then vacuums and analyses. */
async function loadUpTo(bench: BrokerBench, from: number, size: number): Promise<void> {
  const terms = termsOf(bench.ctx);
  const template = JSON.stringify(storedForm(shelterBody('urn:ngsi-ld:Shelter:template'), bench.ctx).attrs);
  const client = await bench.pool.connect();
  try {
    // Durability is not what is measured here; the load only has to be quick.
    await client.query('set synchronous_commit = off');
    for (let start = from; start < size; start += CHUNK) {
      const end = Math.min(size, start + CHUNK) - 1;
      await client.query(BULK_ENTITIES_SQL, [
        TENANT,
        PREFIX,
        [terms.type],
        template,
        terms.name,
        terms.capacity,
        terms.status,
        terms.location,
        start,
        end,
      ]);
      await client.query(BULK_GEO_SQL, [bulkId(PREFIX, start), bulkId(PREFIX, end), terms.location, TENANT]);
    }
    await client.query('vacuum (analyze) broker.entities, broker.geo');
  } finally {
    client.release();
  }
}

async function asTenant<T>(bench: BrokerBench, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await bench.pool.connect();
  try {
    await client.query('set role machi_app');
    await client.query('select set_config($1, $2, false)', ['machi.tenant_id', TENANT]);
    return await fn(client);
  } finally {
    await client.query('reset role; reset all');
    client.release();
  }
}

function measure(label: string, latency: Latency) {
  return {
    label,
    value: Math.round(latency.p99Ms * 100) / 100,
    p50Ms: Math.round(latency.p50Ms * 100) / 100,
    runs: [Math.round(latency.p99Ms * 100) / 100],
    count: latency.count,
  };
}

/** EXPLAIN ANALYZE of one request's statement, kept for the record (bench/results/broker-plans.txt). */
async function explain(bench: BrokerBench, query: Query): Promise<string> {
  const { sql, values } = compiledSql(bench, query.params());
  return asTenant(bench, async (client) => {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, buffers) ${sql}`,
      values,
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

async function timeQuery(bench: BrokerBench, query: Query, size: number): Promise<BrokerRow> {
  const { latencyCount, latencySeconds } = bench.settings;
  const sqlLatency = await asTenant(bench, (client) =>
    sequentialLatency(
      () => {
        const { sql, values } = compiledSql(bench, query.params());
        return client.query(sql, values);
      },
      latencyCount,
      latencySeconds,
    ),
  );
  const httpLatency = await sequentialLatency(
    () =>
      fetchOk(
        `${bench.machi}/ngsi-ld/v1/entities?${new URLSearchParams({ ...query.params(), limit: String(LIMIT) })}`,
        {
          headers: READ_HEADERS,
        },
      ),
    latencyCount,
    latencySeconds,
  );
  bench.log(
    `  ${query.name} at ${size}: SQL p50 ${sqlLatency.p50Ms.toFixed(1)} / p99 ${sqlLatency.p99Ms.toFixed(1)} ms, HTTP p50 ${httpLatency.p50Ms.toFixed(1)} / p99 ${httpLatency.p99Ms.toFixed(1)} ms`,
  );
  return latencyRow(
    `broker (c) ${query.name}, ${size.toLocaleString('en-US')} entities`,
    measure('the same SQL with pg', sqlLatency),
    measure('Machi GET /entities', httpLatency),
    TARGET_P99_MS,
  );
}

export async function measureQueries(bench: BrokerBench, plansFile: string): Promise<BrokerRow[]> {
  await bench.pool.query('truncate broker.entities cascade');
  const rows: BrokerRow[] = [];
  const plans: string[] = [];
  let loaded = 0;
  for (const size of bench.settings.rows) {
    const started = performance.now();
    await loadUpTo(bench, loaded, size);
    loaded = size;
    bench.log(`  (c) loaded ${size} entities in ${Math.round((performance.now() - started) / 1000)} s`);
    for (const query of QUERIES) {
      rows.push(await timeQuery(bench, query, size));
      plans.push(`-- ${query.name}, ${size} entities\n${await explain(bench, query)}\n`);
    }
  }
  fs.mkdirSync(path.dirname(plansFile), { recursive: true });
  fs.writeFileSync(plansFile, plans.join('\n'));
  return rows;
}
