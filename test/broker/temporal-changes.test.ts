import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, shelter, startBroker } from './helpers.ts';
import { assertNgsiError } from './temporal-helpers.ts';

const ID = 'urn:ngsi-ld:Shelter:sendai-001';
type Instance = Record<string, unknown>;

describe(`NGSI-LD temporal API: history of entity writes, kept by the change hook (${backend})`, () => {
  let b: BrokerTest;
  let start: string;
  const temporal = async (query = '') => {
    const response = await ngsi(b.app, 'GET', `/temporal/entities/${ID}${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  };
  /** Every instance written since the test began, by modifiedAt. */
  const written = () => temporal(`?timeproperty=modifiedAt&timerel=after&timeAt=${start}`);
  before(async () => {
    b = await startBroker();
    start = new Date(Date.now() - 1000).toISOString();
  });
  after(() => b.close());

  it('records each attribute of a created entity; observedAt series need an observedAt', async () => {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(1))).statusCode, 201);
    const observed = await temporal();
    assert.equal(observed.type, 'Shelter');
    assert.deepEqual(
      observed.capacity.map((i: Instance) => [i.value, i.observedAt, i.unitCode]),
      [[100, '2026-11-20T05:00:00.000Z', 'C62']],
    );
    assert.equal(observed.name, undefined, 'name has no observedAt');
    const all = await written();
    assert.deepEqual(all.name[0].languageMap, { ja: '避難所1', en: 'Shelter 1' });
    assert.deepEqual(all.location[0].value, shelter(1).location.value);
  });

  it('records only the attributes an update touched (PATCH /entities/{id}/attrs)', async () => {
    const patched = await ngsi(b.app, 'PATCH', `/entities/${ID}/attrs`, {
      capacity: { type: 'Property', value: 150, unitCode: 'C62', observedAt: '2026-11-21T05:00:00Z' },
    });
    assert.equal(patched.statusCode, 204, patched.body);
    assert.deepEqual(
      (await temporal()).capacity.map((i: Instance) => i.value),
      [100, 150],
    );
    const all = await written();
    assert.equal(all.name.length, 1);
    assert.equal(all.location.length, 1);
  });

  it('records a deleted attribute as an instance with deletedAt and NGSI-LD Null', async () => {
    assert.equal((await ngsi(b.app, 'DELETE', `/entities/${ID}/attrs/capacity`)).statusCode, 204);
    const last = (await written()).capacity.at(-1);
    assert.equal(last.type, 'Property');
    assert.equal(last.value, 'urn:ngsi-ld:null');
    assert.match(last.deletedAt, /^\d{4}-\d{2}-\d{2}T/);
    const deleted = await temporal(
      `?timeproperty=deletedAt&timerel=after&timeAt=${start}&options=temporalValues`,
    );
    assert.deepEqual(deleted.capacity, { type: 'Property', values: [['urn:ngsi-ld:null', last.deletedAt]] });
  });

  it('keeps the history of a deleted entity, marks it deleted, and q looks at the current state', async () => {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(2))).statusCode, 201);
    assert.equal((await ngsi(b.app, 'DELETE', `/entities/${ID}`)).statusCode, 204);
    const all = await temporal(`?timeproperty=modifiedAt&timerel=after&timeAt=${start}&options=sysAttrs`);
    assert.match(all.deletedAt, /^\d{4}-/);
    assert.equal(all.name.at(-1).languageMap, 'urn:ngsi-ld:null');
    assert.equal(all.location.at(-1).value, 'urn:ngsi-ld:null');
    assert.equal(all.name.length, 2);
    const byType = (await ngsi(b.app, 'GET', '/temporal/entities?type=Shelter')).json();
    assert.deepEqual(
      byType.map((e: Instance) => e.id),
      [ID, 'urn:ngsi-ld:Shelter:sendai-002'],
    );
    const byQ = (await ngsi(b.app, 'GET', '/temporal/entities?type=Shelter&q=capacity>150')).json();
    assert.deepEqual(
      byQ.map((e: Instance) => e.id),
      ['urn:ngsi-ld:Shelter:sendai-002'],
    );
  });

  it('clears the deletion when the entity is created again, and keeps the earlier history', async () => {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(1))).statusCode, 201);
    const all = await temporal(`?timeproperty=modifiedAt&timerel=after&timeAt=${start}&options=sysAttrs`);
    assert.equal(all.deletedAt, undefined);
    assert.equal(all.name.length, 3);
    assert.deepEqual(
      (await temporal('?attrs=capacity')).capacity.map((i: Instance) => i.value),
      [100, 100, 150],
    );
  });

  it('deletes one instance by its instanceId (§5.6.15)', async () => {
    const [first] = (await temporal('?attrs=capacity')).capacity;
    const path = `/temporal/entities/${ID}/attrs/capacity/${first.instanceId}`;
    assert.equal((await ngsi(b.app, 'DELETE', path)).statusCode, 204);
    assertNgsiError(await ngsi(b.app, 'DELETE', path), 404, 'ResourceNotFound');
    assert.equal((await temporal('?attrs=capacity')).capacity.length, 2);
  });

  it('adds instances to an existing temporal entity with POST …/attrs (§5.6.12)', async () => {
    const added = await ngsi(b.app, 'POST', `/temporal/entities/${ID}/attrs`, {
      occupancy: [
        { type: 'Property', value: 10, observedAt: '2026-11-22T00:00:00Z' },
        { type: 'Property', value: 30, observedAt: '2026-11-22T01:00:00Z' },
      ],
    });
    assert.equal(added.statusCode, 204, added.body);
    const got = await temporal('?attrs=occupancy&options=temporalValues');
    assert.deepEqual(got.occupancy.values, [
      [10, '2026-11-22T00:00:00.000Z'],
      [30, '2026-11-22T01:00:00.000Z'],
    ]);
    const missing = await ngsi(b.app, 'POST', '/temporal/entities/urn:ngsi-ld:Shelter:none/attrs', {
      occupancy: [{ type: 'Property', value: 1, observedAt: '2026-11-22T00:00:00Z' }],
    });
    assertNgsiError(missing, 404, 'ResourceNotFound');
  });
});
