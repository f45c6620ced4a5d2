import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ISHINOMAKI, ngsi, SENDAI, startBroker } from './helpers.ts';
import { assertNgsiError, READINGS, SENSOR, sensorHistory } from './temporal-helpers.ts';

const levels = (body: Record<string, unknown>) =>
  (body.level as { value: number; observedAt: string }[]).map((i) => [i.value, i.observedAt]);

describe(`NGSI-LD temporal API: history written and read back (§5.6.11, §5.7.3, §5.7.4) (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
    const created = await ngsi(b.app, 'POST', '/temporal/entities', sensorHistory());
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers.location, `/ngsi-ld/v1/temporal/entities/${encodeURIComponent(SENSOR)}`);
  });
  after(() => b.close());

  it('returns every instance in the temporal representation, oldest first, each with an instanceId', async () => {
    const got = await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}`);
    assert.equal(got.statusCode, 200, got.body);
    const body = got.json();
    assert.equal(body.id, SENSOR);
    assert.equal(body.type, 'WaterLevelSensor');
    assert.deepEqual(
      levels(body),
      READINGS.map(([t, v]) => [v, t]),
    );
    for (const instance of body.level) {
      assert.equal(instance.type, 'Property');
      assert.equal(instance.unitCode, 'MTR');
      assert.match(instance.instanceId, /^urn:ngsi-ld:attribute:instance:[0-9a-f-]{36}$/);
    }
    assert.equal(new Set(body.level.map((i: { instanceId: string }) => i.instanceId)).size, 6);
    assert.deepEqual(
      body.status.map((i: { value: string }) => i.value),
      ['normal', 'warning', 'normal'],
    );
  });

  it('answers 204 when more history is added to an entity that has some, and keeps both', async () => {
    const more = await ngsi(b.app, 'POST', '/temporal/entities', {
      id: SENSOR,
      type: 'WaterLevelSensor',
      level: [{ type: 'Property', value: 9, observedAt: '2019-05-01T00:00:00Z' }],
    });
    assert.equal(more.statusCode, 204, more.body);
    const got = (await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}?attrs=level&lastN=1`)).json();
    assert.deepEqual(levels(got), [[4, '2026-11-21T02:30:00.000Z']]);
    const old = (
      await ngsi(
        b.app,
        'GET',
        `/temporal/entities/${SENSOR}?attrs=level&timerel=before&timeAt=2020-01-01T00:00:00Z`,
      )
    ).json();
    assert.deepEqual(levels(old), [[9, '2019-05-01T00:00:00.000Z']]);
    assert.equal(old.status, undefined);
  });

  it('filters by timerel: before is < timeAt, after is ≥ timeAt, between is [timeAt, endTimeAt)', async () => {
    const read = async (query: string) =>
      levels((await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}?attrs=level&${query}`)).json());
    assert.deepEqual(await read('timerel=before&timeAt=2026-11-21T00:00:00Z&timeproperty=observedAt'), [
      [9, '2019-05-01T00:00:00.000Z'],
      [1, '2026-11-20T00:10:00.000Z'],
      [3, '2026-11-20T00:40:00.000Z'],
      [5, '2026-11-20T01:15:00.000Z'],
    ]);
    assert.deepEqual(await read('timerel=after&timeAt=2026-11-21T00:30:00Z'), [
      [2, '2026-11-21T00:30:00.000Z'],
      [4, '2026-11-21T02:00:00.000Z'],
      [4, '2026-11-21T02:30:00.000Z'],
    ]);
    assert.deepEqual(
      await read('timerel=between&timeAt=2026-11-20T00:40:00Z&endTimeAt=2026-11-21T02:00:00Z'),
      [
        [3, '2026-11-20T00:40:00.000Z'],
        [5, '2026-11-20T01:15:00.000Z'],
        [2, '2026-11-21T00:30:00.000Z'],
      ],
    );
    assert.deepEqual(await read('timerel=before&timeAt=2026-11-21T00:00:00Z&lastN=2'), [
      [3, '2026-11-20T00:40:00.000Z'],
      [5, '2026-11-20T01:15:00.000Z'],
    ]);
  });

  it('gives the simplified temporal representation with options=temporalValues (§4.5.9)', async () => {
    const got = await ngsi(
      b.app,
      'GET',
      `/temporal/entities/${SENSOR}?options=temporalValues&timerel=after&timeAt=2026-11-21T00:00:00Z`,
    );
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json(), {
      id: SENSOR,
      type: 'WaterLevelSensor',
      level: {
        type: 'Property',
        values: [
          [2, '2026-11-21T00:30:00.000Z'],
          [4, '2026-11-21T02:00:00.000Z'],
          [4, '2026-11-21T02:30:00.000Z'],
        ],
      },
      status: { type: 'Property', values: [['normal', '2026-11-21T02:30:00.000Z']] },
    });
  });

  it('queries temporal entities by type, id, idPattern and attrs, with a count', async () => {
    await ngsi(b.app, 'POST', '/temporal/entities', {
      id: 'urn:ngsi-ld:RainGauge:sendai-001',
      type: 'RainGauge',
      rainfall: [{ type: 'Property', value: 12.5, observedAt: '2026-11-20T03:00:00Z' }],
    });
    const byType = await ngsi(b.app, 'GET', '/temporal/entities?type=RainGauge&count=true');
    assert.equal(byType.statusCode, 200, byType.body);
    assert.equal(byType.headers['ngsild-results-count'], '1');
    assert.deepEqual(
      byType.json().map((e: { id: string }) => e.id),
      ['urn:ngsi-ld:RainGauge:sendai-001'],
    );
    const byAttrs = (await ngsi(b.app, 'GET', '/temporal/entities?attrs=level')).json();
    assert.deepEqual(
      byAttrs.map((e: { id: string }) => e.id),
      [SENSOR],
    );
    assert.equal(byAttrs[0].rainfall, undefined);
    const byPattern = (
      await ngsi(b.app, 'GET', '/temporal/entities?idPattern=^urn:ngsi-ld:Water&lastN=1')
    ).json();
    assert.deepEqual(
      byPattern.map((e: { id: string }) => e.id),
      [SENSOR],
    );
    const all = (
      await ngsi(b.app, 'GET', `/temporal/entities?id=${SENSOR},urn:ngsi-ld:RainGauge:sendai-001`)
    ).json();
    assert.equal(all.length, 2);
  });

  it('keeps each tenant to its own history', async () => {
    const other = await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}`, undefined, {
      'ngsild-tenant': ISHINOMAKI,
    });
    assertNgsiError(other, 404, 'ResourceNotFound');
    const theirs = await ngsi(b.app, 'POST', '/temporal/entities', sensorHistory(READINGS.slice(0, 1)), {
      'ngsild-tenant': ISHINOMAKI,
    });
    assert.equal(theirs.statusCode, 201, theirs.body);
    const mine = (await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}?attrs=level`)).json();
    assert.equal(mine.level.length, 7);
    const listed = (
      await ngsi(b.app, 'GET', '/temporal/entities?type=WaterLevelSensor', undefined, {
        'ngsild-tenant': ISHINOMAKI,
      })
    ).json();
    assert.equal(listed.length, 1);
    assert.equal(listed[0].level.length, 1);
    const raw = await b.t.db.withTenant(SENDAI, (tx) =>
      tx.query('select 1 from broker.attribute_instances where tenant_id = $1', [ISHINOMAKI]),
    );
    assert.equal(raw.rows.length, 0);
  });

  it('writes history only: POST /temporal/entities creates no current entity', async () => {
    const current = await ngsi(b.app, 'GET', `/entities/${SENSOR}`);
    assertNgsiError(current, 404, 'ResourceNotFound');
  });

  it('partitions the history by month, with a default partition for times outside them', async () => {
    const { rows } = await b.t.db.query<{ name: string }>(
      `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'broker.attribute_instances'::regclass order by 1`,
    );
    const names = rows.map((r) => r.name);
    assert.ok(names.length >= 25, `${names.length} partitions`);
    assert.ok(names.includes('attribute_instances_default'));
    assert.ok(names.includes('attribute_instances_y2026m11'));
    const placed = await b.t.db.query<{ part: string; n: number }>(
      `select tableoid::regclass::text as part, count(*)::int as n from broker.attribute_instances
        where entity_id = $1 and attr like '%level' group by 1 order by 1`,
      [SENSOR],
    );
    assert.deepEqual(placed.rows, [
      { part: 'broker.attribute_instances_default', n: 1 },
      { part: 'broker.attribute_instances_y2026m11', n: 7 },
    ]);
  });

  it('deletes an attribute’s history and then the whole entity’s history (§5.6.13, §5.6.16)', async () => {
    const gauge = 'urn:ngsi-ld:RainGauge:sendai-001';
    const attr = await ngsi(b.app, 'DELETE', `/temporal/entities/${gauge}/attrs/rainfall`);
    assert.equal(attr.statusCode, 204, attr.body);
    assertNgsiError(
      await ngsi(b.app, 'DELETE', `/temporal/entities/${gauge}/attrs/rainfall`),
      404,
      'ResourceNotFound',
    );
    const gone = await ngsi(b.app, 'DELETE', `/temporal/entities/${gauge}`);
    assert.equal(gone.statusCode, 204);
    assertNgsiError(await ngsi(b.app, 'GET', `/temporal/entities/${gauge}`), 404, 'ResourceNotFound');
    assertNgsiError(await ngsi(b.app, 'DELETE', `/temporal/entities/${gauge}`), 404, 'ResourceNotFound');
  });
});
