/**
 * (a) Writes: entities created one per request (POST /ngsi-ld/v1/entities) and in batches (POST
 * /ngsi-ld/v1/entityOperations/upsert), against the same stored rows written by plain
 * `insert … on conflict (tenant_id, id) do update` with pg, at the same concurrency.
 */
import { type BrokerBench, JSON_HEADERS } from './bench.ts';
import { shelterBody, storedForm, TENANT } from './entity.ts';
import { bestOf, type Contender, httpThroughput, loopThroughput } from './load.ts';
import { type BrokerRow, throughputRow, unavailableRow } from './report.ts';

const TARGET = 0.5;
const COLUMNS = '(tenant_id, id, types, scopes, attrs, created_at, modified_at)';
const ON_CONFLICT = `on conflict (tenant_id, id) do update
  set types = excluded.types, scopes = excluded.scopes, attrs = excluded.attrs, modified_at = excluded.modified_at`;

/** Unique entity ids, one sequence per contender. */
function idMaker(bench: BrokerBench, who: string): () => string {
  let n = 0;
  return () => `urn:ngsi-ld:Shelter:${bench.tag}-${who}-${n++}`;
}

function createOverHttp(bench: BrokerBench, base: string, label: string, who: string): Contender {
  const nextId = idMaker(bench, who);
  return {
    label,
    run: (seconds) =>
      httpThroughput(
        {
          url: `${base}/ngsi-ld/v1/entities`,
          method: 'POST',
          headers: JSON_HEADERS,
          next: () => ({ body: JSON.stringify(shelterBody(nextId())) }),
        },
        bench.settings.connections,
        seconds,
      ),
  };
}

/** One row's parameters in the order of COLUMNS, from the broker's own parse of the body. */
function rowParams(bench: BrokerBench, id: string): unknown[] {
  const entity = storedForm(shelterBody(id), bench.ctx);
  const now = new Date().toISOString();
  return [TENANT, entity.id, entity.types, entity.scopes, JSON.stringify(entity.attrs), now, now];
}

function insertOneByOne(bench: BrokerBench): Contender {
  const nextId = idMaker(bench, 'pg');
  const sql = `insert into broker.entities ${COLUMNS} values ($1, $2, $3, $4, $5, $6, $7) ${ON_CONFLICT}`;
  return {
    label: 'pg single-row insert',
    run: (seconds) =>
      loopThroughput(
        () => bench.pool.query(sql, rowParams(bench, nextId())),
        bench.settings.connections,
        seconds,
      ),
  };
}

function insertInBatches(bench: BrokerBench): Contender {
  const nextId = idMaker(bench, 'pgb');
  const size = bench.settings.batchSize;
  const values = Array.from({ length: size }, (_, r) => {
    const p = (c: number) => `$${r * 7 + c}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)})`;
  });
  const sql = `insert into broker.entities ${COLUMNS} values ${values.join(', ')} ${ON_CONFLICT}`;
  return {
    label: `pg ${size}-row insert`,
    run: (seconds) =>
      loopThroughput(
        () => bench.pool.query(sql, Array.from({ length: size }, () => rowParams(bench, nextId())).flat()),
        bench.settings.connections,
        seconds,
        size,
      ),
  };
}

function upsertOverHttp(bench: BrokerBench): Contender {
  const nextId = idMaker(bench, 'batch');
  const size = bench.settings.batchSize;
  return {
    label: `Machi upsert of ${size}`,
    run: (seconds) =>
      httpThroughput(
        {
          url: `${bench.machi}/ngsi-ld/v1/entityOperations/upsert`,
          method: 'POST',
          headers: JSON_HEADERS,
          next: () => ({ body: JSON.stringify(Array.from({ length: size }, () => shelterBody(nextId()))) }),
          perRequest: size,
        },
        bench.settings.connections,
        seconds,
      ),
  };
}

/** One batch by hand first: a 2xx that did not store the entities (a 207 with errors) must not count. */
async function checkUpsert(bench: BrokerBench): Promise<void> {
  const prefix = `urn:ngsi-ld:Shelter:${bench.tag}-check-`;
  const bodies = Array.from({ length: bench.settings.batchSize }, (_, i) => shelterBody(`${prefix}${i}`));
  const response = await fetch(`${bench.machi}/ngsi-ld/v1/entityOperations/upsert`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(bodies),
  });
  const text = await response.text();
  const { rows } = await bench.pool.query<{ n: number }>(
    'select count(*)::int as n from broker.entities where id like $1',
    [`${prefix}%`],
  );
  if (!response.ok || rows[0]?.n !== bodies.length) {
    throw new Error(`upsert answered ${response.status} and stored ${rows[0]?.n}: ${text.slice(0, 300)}`);
  }
}

export async function measureWrites(bench: BrokerBench): Promise<BrokerRow[]> {
  const { settings, log } = bench;
  log(`  (a) entity creation, ${settings.connections} connections`);
  const { machi, unlimited, pgSingle } = await bestOf(
    {
      machi: createOverHttp(bench, bench.machi, 'Machi POST /entities', 'http'),
      unlimited: createOverHttp(bench, bench.machiUnlimited, 'Machi POST /entities, no rate limit', 'free'),
      pgSingle: insertOneByOne(bench),
    },
    settings,
    log,
  );
  const rows: BrokerRow[] = [
    throughputRow('broker (a) create entity', 'entities/s', pgSingle, machi, TARGET),
    throughputRow(
      'broker (a) create entity, rate limiting off',
      'entities/s',
      pgSingle,
      unlimited,
      TARGET,
      'the same with RATE_LIMIT_MAX=0: what the per-request rate-limit upsert costs',
    ),
  ];
  const batchName = `broker (a) batch upsert of ${settings.batchSize}`;
  if (!bench.routes.upsert) {
    rows.push(unavailableRow(batchName, 'entities/s', `≥ ${TARGET}×`, 'no POST /entityOperations/upsert'));
    return rows;
  }
  log(`  (a) batch upsert of ${settings.batchSize}, ${settings.connections} connections`);
  await checkUpsert(bench);
  const { upsert, pgBatch } = await bestOf(
    { upsert: upsertOverHttp(bench), pgBatch: insertInBatches(bench) },
    settings,
    log,
  );
  rows.push(throughputRow(batchName, 'entities/s', pgBatch, upsert, TARGET));
  return rows;
}
