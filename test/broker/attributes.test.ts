import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, shelter, startBroker } from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const ID = 'urn:ngsi-ld:Shelter:sendai-001';
const SENSOR = 'urn:ngsi-ld:Dataset:sensor-2';

function assertNgsiError(response: { statusCode: number; json(): unknown }, status: number, type: string) {
  const body = response.json() as Record<string, unknown>;
  assert.equal(response.statusCode, status, JSON.stringify(body));
  assert.equal(body.type, ERR + type);
  assert.equal(typeof body.detail, 'string');
  return body;
}

describe(`NGSI-LD attributes: append, update, partial update, replace, delete (§5.6.2–5.6.5, §5.6.19) (${backend})`, () => {
  let b: BrokerTest;
  const get = async (query = '') => (await ngsi(b.app, 'GET', `/entities/${ID}${query}`)).json();
  const send = (method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
    ngsi(b.app, method, `/entities/${ID}${path}`, body);

  before(async () => {
    b = await startBroker();
  });
  beforeEach(async () => {
    await ngsi(b.app, 'DELETE', `/entities/${ID}`);
    const created = await ngsi(b.app, 'POST', '/entities', shelter(1));
    assert.equal(created.statusCode, 201, created.body);
  });
  after(() => b.close());

  it('appends new attributes and overwrites existing ones (204)', async () => {
    const response = await send('POST', '/attrs', { open: true, capacity: { type: 'Property', value: 150 } });
    assert.equal(response.statusCode, 204, response.body);
    const got = await get();
    assert.deepEqual(got.open, { type: 'Property', value: true });
    assert.deepEqual(got.capacity, { type: 'Property', value: 150 });
    assert.equal(got.name.type, 'LanguageProperty');
  });

  it('keeps existing attributes with options=noOverwrite and answers 207 naming them', async () => {
    const response = await send('POST', '/attrs?options=noOverwrite', { open: true, capacity: 1 });
    assert.equal(response.statusCode, 207, response.body);
    const result = response.json();
    assert.deepEqual(result.updated, ['open']);
    assert.equal(result.notUpdated.length, 1);
    assert.equal(result.notUpdated[0].attributeName, 'capacity');
    assert.match(result.notUpdated[0].reason, /noOverwrite/);
    const got = await get();
    assert.equal(got.capacity.value, 100);
    assert.equal(got.open.value, true);
  });

  it('adds a datasetId instance beside the default one on append', async () => {
    assert.equal(
      (await send('POST', '/attrs', { capacity: { value: 90, datasetId: SENSOR } })).statusCode,
      204,
    );
    const got = await get();
    assert.deepEqual(
      got.capacity.map((i: { value: unknown }) => i.value),
      [100, 90],
    );
  });

  it('updates only attributes the entity has, with 207 listing the others (§5.6.2)', async () => {
    const response = await send('PATCH', '/attrs', { capacity: { type: 'Property', value: 80 }, missing: 1 });
    assert.equal(response.statusCode, 207, response.body);
    assert.deepEqual(response.json().updated, ['capacity']);
    assert.deepEqual(
      response.json().notUpdated.map((n: { attributeName: string }) => n.attributeName),
      ['missing'],
    );
    const got = await get();
    assert.deepEqual(got.capacity, { type: 'Property', value: 80 });
    assert.equal(got.missing, undefined);
    const all = await send('PATCH', '/attrs', { capacity: 70 });
    assert.equal(all.statusCode, 204);
  });

  it('deletes an attribute given NGSI-LD Null in an update', async () => {
    const response = await send('PATCH', '/attrs', { capacity: 'urn:ngsi-ld:null' });
    assert.equal(response.statusCode, 204, response.body);
    assert.equal((await get()).capacity, undefined);
  });

  it('partially updates one attribute, keeping members it does not name (§5.6.4)', async () => {
    const response = await send('PATCH', '/attrs/capacity', { value: 120, accuracy: { value: 5 } });
    assert.equal(response.statusCode, 204, response.body);
    assert.deepEqual((await get()).capacity, {
      type: 'Property',
      value: 120,
      unitCode: 'C62',
      observedAt: '2026-11-20T05:00:00.000Z',
      accuracy: { type: 'Property', value: 5 },
    });
    await send('PATCH', '/attrs/capacity', {
      accuracy: { value: 'urn:ngsi-ld:null' },
      unitCode: 'urn:ngsi-ld:null',
    });
    assert.deepEqual((await get()).capacity, {
      type: 'Property',
      value: 120,
      observedAt: '2026-11-20T05:00:00.000Z',
    });
  });

  it('partially updates the instance named by datasetId, and answers 404 for a missing one', async () => {
    await send('POST', '/attrs', { capacity: { value: 90, datasetId: SENSOR } });
    assert.equal((await send('PATCH', '/attrs/capacity', { value: 95, datasetId: SENSOR })).statusCode, 204);
    assert.deepEqual(
      (await get()).capacity.map((i: { value: unknown }) => i.value),
      [100, 95],
    );
    const missing = await send('PATCH', '/attrs/capacity', {
      value: 1,
      datasetId: 'urn:ngsi-ld:Dataset:none',
    });
    assertNgsiError(missing, 404, 'ResourceNotFound');
    assertNgsiError(await send('PATCH', '/attrs/nothing', { value: 1 }), 404, 'ResourceNotFound');
  });

  it('replaces an attribute whole (§5.6.19), only when it exists', async () => {
    const response = await send('PUT', '/attrs/capacity', { type: 'Property', value: 50 });
    assert.equal(response.statusCode, 204, response.body);
    assert.deepEqual((await get()).capacity, { type: 'Property', value: 50 });
    assertNgsiError(await send('PUT', '/attrs/nothing', { value: 1 }), 404, 'ResourceNotFound');
    assertNgsiError(await send('PUT', '/attrs/capacity', { type: 'Property' }), 400, 'BadRequestData');
  });

  it('deletes the default instance, one datasetId, or all with deleteAll=true (§5.6.5)', async () => {
    await send('POST', '/attrs', { capacity: { value: 90, datasetId: SENSOR } });
    assert.equal((await send('DELETE', `/attrs/capacity?datasetId=${SENSOR}`)).statusCode, 204);
    assert.equal((await get()).capacity.value, 100);
    assertNgsiError(await send('DELETE', `/attrs/capacity?datasetId=${SENSOR}`), 404, 'ResourceNotFound');
    assert.equal((await send('DELETE', '/attrs/capacity')).statusCode, 204);
    assert.equal((await get()).capacity, undefined);
    await send('POST', '/attrs', { capacity: [{ value: 1 }, { value: 2, datasetId: SENSOR }] });
    assert.equal((await send('DELETE', '/attrs/capacity?deleteAll=true')).statusCode, 204);
    assert.equal((await get()).capacity, undefined);
    assertNgsiError(await send('DELETE', '/attrs/capacity'), 404, 'ResourceNotFound');
    assertNgsiError(await send('DELETE', '/attrs/name?datasetId=not-a-uri'), 400, 'BadRequestData');
  });

  it('answers ResourceNotFound for a missing entity and BadRequestData for a bad id or attribute', async () => {
    const missing = await ngsi(b.app, 'POST', '/entities/urn:ngsi-ld:Shelter:none/attrs', { open: true });
    assertNgsiError(missing, 404, 'ResourceNotFound');
    assertNgsiError(
      await ngsi(b.app, 'POST', '/entities/shelter-1/attrs', { open: true }),
      400,
      'BadRequestData',
    );
    const bad = await send('POST', '/attrs', {
      open: true,
      owner: { type: 'Relationship', object: 'no uri' },
    });
    assertNgsiError(bad, 400, 'BadRequestData');
    assert.equal((await get()).open, undefined, 'nothing of a refused request is written');
    assertNgsiError(await send('POST', '/attrs', [1]), 400, 'BadRequestData');
    const otherId = await send('POST', '/attrs', { id: 'urn:ngsi-ld:Shelter:other', open: true });
    assertNgsiError(otherId, 400, 'BadRequestData');
  });

  it('loses no update when many clients append at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, n) => send('POST', '/attrs', { [`door${n}`]: n })),
    );
    assert.ok(responses.every((r) => r.statusCode === 204));
    const got = await get();
    for (let n = 0; n < 12; n++) {
      assert.equal(got[`door${n}`]?.value, n);
    }
  });
});

describe(`NGSI-LD replace and merge entity (§5.6.18, §5.6.17) (${backend})`, () => {
  let b: BrokerTest;
  const get = async (query = '') => (await ngsi(b.app, 'GET', `/entities/${ID}${query}`)).json();

  before(async () => {
    b = await startBroker();
  });
  beforeEach(async () => {
    await ngsi(b.app, 'DELETE', `/entities/${ID}`);
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(1))).statusCode, 201);
  });
  after(() => b.close());

  it('replaces an entity: attributes not sent are gone, the entity keeps createdAt', async () => {
    const createdAt = (await get('?options=sysAttrs')).createdAt;
    const response = await ngsi(b.app, 'PUT', `/entities/${ID}`, { type: 'EvacuationSite', open: true });
    assert.equal(response.statusCode, 204, response.body);
    const got = await get('?options=sysAttrs');
    assert.equal(got.type, 'EvacuationSite');
    assert.equal(got.capacity, undefined);
    assert.equal(got.open.value, true);
    assert.equal(got.createdAt, createdAt);
    const missing = await ngsi(b.app, 'PUT', '/entities/urn:ngsi-ld:Shelter:none', { type: 'Shelter' });
    assertNgsiError(missing, 404, 'ResourceNotFound');
    const wrongId = await ngsi(b.app, 'PUT', `/entities/${ID}`, { id: 'urn:ngsi-ld:x:1', type: 'Shelter' });
    assertNgsiError(wrongId, 400, 'BadRequestData');
  });

  it('merges: values change, observedAt, unitCode and other attributes stay, types are added', async () => {
    const response = await ngsi(b.app, 'PATCH', `/entities/${ID}`, {
      type: 'EvacuationSite',
      capacity: 130,
      open: true,
    });
    assert.equal(response.statusCode, 204, response.body);
    const got = await get();
    assert.deepEqual(got.type, ['Shelter', 'EvacuationSite']);
    assert.deepEqual(got.capacity, {
      type: 'Property',
      value: 130,
      unitCode: 'C62',
      observedAt: '2026-11-20T05:00:00.000Z',
    });
    assert.equal(got.open.value, true);
    assert.equal(got.location.type, 'GeoProperty');
  });

  it('deletes attributes and sub-attributes given NGSI-LD Null (or JSON null) on merge', async () => {
    await ngsi(b.app, 'PATCH', `/entities/${ID}`, { capacity: { accuracy: { value: 3 }, source: 'census' } });
    assert.equal((await get()).capacity.accuracy.value, 3);
    const response = await ngsi(b.app, 'PATCH', `/entities/${ID}`, {
      capacity: { accuracy: 'urn:ngsi-ld:null', source: null },
      name: 'urn:ngsi-ld:null',
    });
    assert.equal(response.statusCode, 204, response.body);
    const got = await get();
    assert.equal(got.name, undefined);
    assert.equal(got.capacity.accuracy, undefined);
    assert.equal(got.capacity.source, undefined);
    assert.equal(got.capacity.value, 100);
  });

  it('merges a JSON object value key by key, and replaces an attribute whose type changes', async () => {
    await ngsi(b.app, 'PATCH', `/entities/${ID}`, { address: { value: { city: '仙台市', ward: '青葉区' } } });
    await ngsi(b.app, 'PATCH', `/entities/${ID}`, {
      address: { value: { ward: 'urn:ngsi-ld:null', postalCode: '980-0811' } },
      capacity: { type: 'Relationship', object: 'urn:ngsi-ld:Capacity:1' },
    });
    const got = await get();
    assert.deepEqual(got.address.value, { city: '仙台市', postalCode: '980-0811' });
    assert.deepEqual(got.capacity, { type: 'Relationship', object: 'urn:ngsi-ld:Capacity:1' });
  });

  it('keeps createdAt of merged attributes and moves modifiedAt', async () => {
    const before = await get('?options=sysAttrs');
    await new Promise((r) => setTimeout(r, 5));
    await ngsi(b.app, 'PATCH', `/entities/${ID}`, { capacity: 140 });
    const after = await get('?options=sysAttrs');
    assert.equal(after.capacity.createdAt, before.capacity.createdAt);
    assert.ok(after.capacity.modifiedAt > before.capacity.modifiedAt);
    assert.equal(after.name.modifiedAt, before.name.modifiedAt, 'an untouched attribute is not modified');
    assert.ok(after.modifiedAt > before.modifiedAt);
  });

  it('adds a type on merge even when no attribute changes, and takes merge-patch+json', async () => {
    const response = await ngsi(b.app, 'PATCH', `/entities/${ID}`, { type: 'EvacuationSite' });
    assert.equal(response.statusCode, 204, response.body);
    assert.deepEqual((await get()).type, ['Shelter', 'EvacuationSite']);
    const mergePatch = await ngsi(
      b.app,
      'PATCH',
      `/entities/${ID}`,
      { open: true },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    assert.equal(mergePatch.statusCode, 204, mergePatch.body);
    assert.equal((await get()).open.value, true);
  });

  it('refuses a bad merge with BadRequestData and writes nothing', async () => {
    const bad = await ngsi(b.app, 'PATCH', `/entities/${ID}`, {
      open: true,
      capacity: { observedAt: 'soon' },
    });
    assertNgsiError(bad, 400, 'BadRequestData');
    assert.equal((await get()).open, undefined);
    const missing = await ngsi(b.app, 'PATCH', '/entities/urn:ngsi-ld:Shelter:none', { open: true });
    assertNgsiError(missing, 404, 'ResourceNotFound');
  });
});
