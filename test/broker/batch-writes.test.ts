/**
 * Batch writes are set-based (src/broker/entities/batch-write.ts): one read of the batch's entities,
 * one statement per group of changes. What a client must never notice: a batch leaves exactly what
 * the same requests sent one by one leave (entities, geometries, history, notifications), whether it
 * went set-based or fell back to one entity at a time, and concurrent batches never deadlock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { loadDemo } from '../../src/demo/index.ts';
import { buildApp } from '../../src/main.ts';
import type { Db, Queryable } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';
import { DEFAULT_VOCAB, ngsi, shelter } from './helpers.ts';

const CAPACITY = `${DEFAULT_VOCAB}capacity`;

/** Every statement sent inside tenant transactions; `failOnce` makes the next matching one fail. */
interface Recorder {
  statements: string[];
  failOnce?: RegExp | undefined;
}

/** The database with every tenant transaction's statements recorded (the handle itself is kept). */
function recordingDb(db: Db, recorder: Recorder): Db {
  return new Proxy(db, {
    get(target, property) {
      if (property === 'withTenant') {
        return <T>(tenant: string, fn: (tx: Queryable) => Promise<T>) =>
          target.withTenant(tenant, (tx) => {
            const query = tx.query.bind(tx);
            tx.query = (async (sql: string, params?: unknown[]) => {
              // The transaction's own end is not the broker's statement.
              if (sql !== 'commit' && sql !== 'rollback') recorder.statements.push(sql);
              if (recorder.failOnce?.test(sql)) {
                recorder.failOnce = undefined;
                throw new Error('injected failure');
              }
              return query(sql, params);
            }) as Queryable['query'];
            return fn(tx);
          });
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

interface Broker {
  t: TestDb;
  app: FastifyInstance;
  recorder: Recorder;
  close(): Promise<void>;
}

async function startRecordedBroker(): Promise<Broker> {
  const t = await createTestDb();
  await loadDemo(t.db);
  const recorder: Recorder = { statements: [] };
  const app = await buildApp({
    config: testConfig(),
    db: recordingDb(t.db, recorder),
    broker: loadBrokerConfig({ MACHI_AUTH: 'off' }),
  });
  await app.ready();
  return {
    t,
    app,
    recorder,
    async close() {
      await app.close();
      await t.close();
    },
  };
}

const NEAR = [140.9, 38.3] as const;
const SUBSCRIPTIONS = [
  {
    id: 'urn:ngsi-ld:Subscription:all',
    notificationTrigger: ['entityCreated', 'attributeCreated', 'attributeUpdated', 'attributeDeleted'],
  },
  { id: 'urn:ngsi-ld:Subscription:big', q: 'capacity>2500', notification: { showChanges: true } },
  {
    id: 'urn:ngsi-ld:Subscription:near',
    watchedAttributes: ['location'],
    geoQ: { geometry: 'Point', coordinates: NEAR, georel: 'near;maxDistance==500' },
  },
  { id: 'urn:ngsi-ld:Subscription:throttled', throttling: 600 },
];

const located = (n: number) => ({
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [NEAR[0], NEAR[1] + n / 1e6] } },
});

/**
 * 100 entities: new ones, existing ones (some moved near the geoQ's point), invalid ones, and ids
 * named twice (new ones and existing ones again).
 */
function mixedBatch(): unknown[] {
  const batch: unknown[] = [];
  for (let n = 101; n <= 140; n++) batch.push(shelter(n));
  for (let n = 1; n <= 30; n++) {
    batch.push(shelter(n, { capacity: { type: 'Property', value: 50 * n }, ...(n % 3 ? {} : located(n)) }));
  }
  for (let n = 201; n <= 210; n++) batch.push(shelter(n, { capacity: { type: 'Property' } }));
  for (let n = 101; n <= 110; n++) batch.push(shelter(n, { capacity: { type: 'Property', value: n } }));
  for (let n = 1; n <= 5; n++) batch.push(shelter(n, { open: { type: 'Property', value: true } }));
  for (let n = 150; n <= 152; n++) batch.push(shelter(n, located(n)));
  batch.push({ type: 'Shelter' }, 'not an entity');
  return batch;
}

async function seed(app: FastifyInstance): Promise<void> {
  for (let n = 1; n <= 30; n++) {
    const response = await ngsi(app, 'POST', '/entities', shelter(n));
    assert.equal(response.statusCode, 201, response.body);
  }
  for (const { id, notification, ...members } of SUBSCRIPTIONS) {
    const body = {
      id,
      type: 'Subscription',
      entities: [{ type: 'Shelter' }],
      notification: { ...notification, endpoint: { uri: 'http://127.0.0.1:9/notify' } },
      ...members,
    };
    const response = await ngsi(app, 'POST', '/subscriptions', body);
    assert.equal(response.statusCode, 201, response.body);
  }
}

/** The batch as single requests: POST a new entity, PUT (replace) an existing one. */
async function oneByOne(app: FastifyInstance, batch: unknown[]) {
  const existing = new Set(Array.from({ length: 30 }, (_, i) => shelter(i + 1).id));
  const success: string[] = [];
  const errors: [unknown, string][] = [];
  for (const raw of batch) {
    const id = typeof raw === 'object' ? (raw as { id?: string }).id : undefined;
    const body = typeof raw === 'string' ? JSON.stringify(raw) : raw;
    const response =
      id && existing.has(id)
        ? await ngsi(app, 'PUT', `/entities/${encodeURIComponent(id)}`, body)
        : await ngsi(app, 'POST', '/entities', body);
    if (response.statusCode < 300) {
      success.push(id as string);
      existing.add(id as string);
    } else {
      errors.push([typeof raw === 'string' ? raw : (id ?? null), response.json().type]);
    }
  }
  return { success, errors };
}

/** Times and instance ids differ from run to run; everything else must not. */
function timeless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(timeless);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !['createdAt', 'modifiedAt', 'at', 'instanceId'].includes(key))
        .map(([key, v]) => [key, timeless(v)]),
    );
  }
  return value;
}

/** What a broker's database holds after the batch, without times. */
async function stored(db: Db) {
  const entities = await db.query(
    'select id, types, scopes, attrs from broker.entities order by tenant_id, id',
  );
  const geo = await db.query(
    'select entity_id, attr, dataset_id, ST_AsText(geom) as geom from broker.geo order by 1, 2, 3',
  );
  const temporal = await db.query(
    `select id, types, scopes, deleted_at is not null as deleted from broker.temporal_entities order by id`,
  );
  const history = await db.query(
    `select entity_id, attr, dataset_id, value, observed_at, deleted_at is not null as deleted
       from broker.attribute_instances order by entity_id, attr, dataset_id, modified_at`,
  );
  const jobs = await db.query(`select payload from platform.jobs where queue = 'broker.notify' order by id`);
  return timeless({
    entities: entities.rows,
    geo: geo.rows,
    temporal: temporal.rows,
    history: history.rows,
    jobs: jobs.rows,
  }) as Record<string, unknown[]>;
}

describe(`set-based batch writes (${backend})`, () => {
  let set: Broker;
  let single: Broker;
  let fallback: Broker;

  before(async () => {
    [set, single, fallback] = await Promise.all([
      startRecordedBroker(),
      startRecordedBroker(),
      startRecordedBroker(),
    ]);
    await Promise.all([seed(set.app), seed(single.app), seed(fallback.app)]);
  });
  after(() => Promise.all([set?.close(), single?.close(), fallback?.close()]));

  it('writes a mixed batch of 100 exactly as the same requests one by one, set-based or not', async () => {
    const batch = mixedBatch();
    set.recorder.statements = [];
    const response = await ngsi(set.app, 'POST', '/entityOperations/upsert', batch);
    assert.equal(response.statusCode, 207, response.body);
    const result = response.json() as {
      success: string[];
      errors: { entityId: unknown; error: { type: string } }[];
    };
    assert.ok(!set.recorder.statements.some((s) => /savepoint/.test(s)), 'the batch went set-based');

    const expected = await oneByOne(single.app, batch);
    assert.deepEqual(result.success, expected.success);
    assert.deepEqual(
      result.errors.map((e) => [e.entityId, e.error.type]),
      expected.errors,
    );
    assert.equal(result.success.length, 88);

    fallback.recorder.failOnce = /^with /;
    fallback.recorder.statements = [];
    const again = await ngsi(fallback.app, 'POST', '/entityOperations/upsert', batch);
    assert.equal(again.statusCode, 207, again.body);
    assert.deepEqual(again.json(), response.json());
    assert.ok(
      fallback.recorder.statements.some((s) => /savepoint/.test(s)),
      'the batch fell back',
    );

    const [a, b, c] = await Promise.all([stored(set.t.db), stored(single.t.db), stored(fallback.t.db)]);
    for (const part of ['entities', 'geo', 'temporal', 'history', 'jobs']) {
      assert.deepEqual(a[part], b[part], `${part}: set-based and one by one`);
      assert.deepEqual(c[part], b[part], `${part}: fallback and one by one`);
    }
    // Seeding notified nobody (the subscriptions came after). The batch: each of its 88 changes (all),
    // the 43 entities created with a capacity over 2500 (big), the 13 put near the point (near), and
    // the throttled subscription once.
    const notified = (a.jobs as { payload: { subscriptionId: string } }[]).map(
      (j) => j.payload.subscriptionId,
    );
    const count = (suffix: string) => notified.filter((s) => s.endsWith(suffix)).length;
    assert.deepEqual([count(':all'), count(':big'), count(':near'), count(':throttled')], [88, 43, 13, 1]);
  });

  it('answers a duplicate create as AlreadyExists, and one id upserted twice as created then replaced', async () => {
    const id = shelter(300).id;
    const created = await ngsi(set.app, 'POST', '/entityOperations/create', [shelter(300), shelter(300)]);
    assert.equal(created.statusCode, 207, created.body);
    assert.deepEqual(created.json().success, [id]);
    assert.equal(created.json().errors[0].error.type, 'https://uri.etsi.org/ngsi-ld/errors/AlreadyExists');
    const existing = await ngsi(set.app, 'POST', '/entityOperations/create', [shelter(301), shelter(1)]);
    assert.deepEqual(existing.json().success, [shelter(301).id]);
    assert.deepEqual(existing.json().errors[0].entityId, shelter(1).id);

    const twice = [shelter(302), shelter(302, { capacity: { type: 'Property', value: 7 } })];
    const upserted = await ngsi(set.app, 'POST', '/entityOperations/upsert', twice);
    assert.equal(upserted.statusCode, 201, upserted.body);
    assert.deepEqual(upserted.json(), [shelter(302).id]);
    const got = await ngsi(set.app, 'GET', `/entities/${shelter(302).id}?options=keyValues`);
    assert.equal(got.json().capacity, 7);
    const { rows } = await set.t.db.query<{ n: number }>(
      `select count(*)::int as n from broker.attribute_instances where entity_id = $1 and attr like '%capacity'`,
      [shelter(302).id],
    );
    assert.equal(rows[0]?.n, 2);
  });

  it('writes a create in one statement and a batch upsert of 100 in two, without subscriptions', async () => {
    const tenant = { 'ngsild-tenant': '042021' };
    const first = await ngsi(set.app, 'POST', '/entities', shelter(400), tenant);
    assert.equal(first.statusCode, 201, first.body);
    set.recorder.statements = [];
    const response = await ngsi(set.app, 'POST', '/entities', shelter(401), tenant);
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(set.recorder.statements.length, 1, set.recorder.statements.join('\n---\n'));

    set.recorder.statements = [];
    const batch = Array.from({ length: 100 }, (_, i) => shelter(500 + i));
    const upsert = await ngsi(set.app, 'POST', '/entityOperations/upsert', batch, tenant);
    assert.equal(upsert.statusCode, 201, upsert.body);
    assert.equal(set.recorder.statements.length, 2, set.recorder.statements.join('\n---\n'));
    const near = await ngsi(
      set.app,
      'GET',
      `/entities?type=Shelter&georel=near;maxDistance==1&geometry=Point&coordinates=[${140.87 + 0.55},38.26]`,
      undefined,
      tenant,
    );
    assert.deepEqual(
      near.json().map((e: { id: string }) => e.id),
      [shelter(550).id],
    );
  });

  it('runs concurrent batches over the same entities in opposite orders without a deadlock', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 600 + i);
    const seeded = await ngsi(
      set.app,
      'POST',
      '/entityOperations/create',
      ids.map((n) => shelter(n)),
    );
    assert.equal(seeded.statusCode, 201, seeded.body);
    set.recorder.statements = [];
    const batches = Array.from({ length: 6 }, (_, k) => {
      const order = k % 2 ? [...ids].reverse() : ids;
      return order.map((n) => shelter(n, { capacity: { type: 'Property', value: k } }));
    });
    const answers = await Promise.all(
      batches.map((batch, k) =>
        ngsi(set.app, 'POST', `/entityOperations/${k % 3 ? 'upsert' : 'update'}`, batch),
      ),
    );
    for (const answer of answers) assert.equal(answer.statusCode, 204, answer.body);
    assert.ok(!set.recorder.statements.some((s) => /savepoint/.test(s)), 'no batch fell back');
    // Each batch waited for the whole of the one before it: every entity has the last one's capacity.
    const { rows } = await set.t.db.query<{ n: number }>(
      `select count(distinct attrs->'${CAPACITY}'->0->'value')::int as n
         from broker.entities where id = any($1::text[])`,
      [ids.map((n) => shelter(n).id)],
    );
    assert.equal(rows[0]?.n, 1);
  });

  it('creates the same new ids from concurrent batches once each', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => 700 + i);
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, k) => {
        const order = k % 2 ? [...ids].reverse() : ids;
        return ngsi(
          set.app,
          'POST',
          '/entityOperations/upsert',
          order.map((n) => shelter(n)),
        );
      }),
    );
    for (const answer of answers) assert.ok([201, 204].includes(answer.statusCode), answer.body);
    const created = answers.flatMap((a) => (a.statusCode === 201 ? (a.json() as string[]) : []));
    assert.equal(new Set(created).size, created.length, 'each id created once');
    assert.equal(created.length, ids.length);
    const { rows } = await set.t.db.query<{ n: number }>(
      `select count(*)::int as n from broker.temporal_entities where id = any($1::text[])`,
      [ids.map((n) => shelter(n).id)],
    );
    assert.equal(rows[0]?.n, ids.length);
  });
});
