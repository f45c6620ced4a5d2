import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, CORE, ngsi, shelter, startBroker } from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const OPS = '/entityOperations';

/** One BatchEntityError (§5.2.17). */
type BatchError = { entityId: unknown; error: { type: string; status: number; detail: string } };

const idOf = (n: number) => shelter(n).id;

describe(`NGSI-LD batch operations (§5.6.7–5.6.10, §5.6.20) (${backend})`, () => {
  let b: BrokerTest;
  const get = (id: string) => ngsi(b.app, 'GET', `/entities/${id}`);

  before(async () => {
    b = await startBroker();
  });
  after(() => b.close());

  it('creates every entity (201 with their ids)', async () => {
    const response = await ngsi(b.app, 'POST', `${OPS}/create`, [shelter(1), shelter(2), shelter(3)]);
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(response.json(), [idOf(1), idOf(2), idOf(3)]);
    assert.equal((await get(idOf(2))).json().capacity.value, 200);
  });

  it('writes the good entities of a batch and nothing of the bad ones (207 BatchOperationResult)', async () => {
    const bad = { ...shelter(5), capacity: { type: 'Property' } };
    const response = await ngsi(b.app, 'POST', `${OPS}/create`, [shelter(4), bad, shelter(1), { type: 'X' }]);
    assert.equal(response.statusCode, 207, response.body);
    const result = response.json();
    assert.deepEqual(result.success, [idOf(4)]);
    assert.deepEqual(
      result.errors.map((e: BatchError) => [e.entityId, e.error.type, e.error.status]),
      [
        [idOf(5), `${ERR}BadRequestData`, 400],
        [idOf(1), `${ERR}AlreadyExists`, 409],
        [null, `${ERR}BadRequestData`, 400],
      ],
    );
    assert.equal(typeof result.errors[0].error.title, 'string');
    assert.match(result.errors[0].error.detail, /capacity is a Property and needs "value"/);
    assert.equal((await get(idOf(4))).statusCode, 200);
    assert.equal((await get(idOf(5))).statusCode, 404);
  });

  it('upserts: replaces existing entities by default, creates new ones (201 with the created ids)', async () => {
    const replaced = { id: idOf(1), type: 'Shelter', open: true };
    const response = await ngsi(b.app, 'POST', `${OPS}/upsert`, [replaced, shelter(6)]);
    assert.equal(response.statusCode, 201, response.body);
    assert.deepEqual(response.json(), [idOf(6)]);
    const got = (await get(idOf(1))).json();
    assert.equal(got.open.value, true);
    assert.equal(got.capacity, undefined);
    const again = await ngsi(b.app, 'POST', `${OPS}/upsert`, [replaced]);
    assert.equal(again.statusCode, 204, again.body);
  });

  it('upserts with options=update: existing attributes not sent stay', async () => {
    const response = await ngsi(b.app, 'POST', `${OPS}/upsert?options=update`, [
      { id: idOf(2), type: 'Shelter', open: false },
    ]);
    assert.equal(response.statusCode, 204, response.body);
    const got = (await get(idOf(2))).json();
    assert.equal(got.open.value, false);
    assert.equal(got.capacity.value, 200);
  });

  it('updates existing entities, and reports a missing one as ResourceNotFound', async () => {
    const response = await ngsi(b.app, 'POST', `${OPS}/update`, [
      { id: idOf(3), capacity: 333 },
      { id: 'urn:ngsi-ld:Shelter:none', capacity: 1 },
    ]);
    assert.equal(response.statusCode, 207, response.body);
    assert.deepEqual(response.json().success, [idOf(3)]);
    assert.equal(response.json().errors[0].error.type, `${ERR}ResourceNotFound`);
    assert.equal((await get(idOf(3))).json().capacity.value, 333);
    assert.equal((await get('urn:ngsi-ld:Shelter:none')).statusCode, 404);
    const keep = await ngsi(b.app, 'POST', `${OPS}/update?options=noOverwrite`, [
      { id: idOf(3), capacity: 1 },
    ]);
    assert.equal(keep.statusCode, 204, keep.body);
    assert.equal((await get(idOf(3))).json().capacity.value, 333);
  });

  it('merges entities (§5.6.20): unit codes and other attributes stay', async () => {
    const response = await ngsi(b.app, 'POST', `${OPS}/merge`, [{ id: idOf(2), capacity: 300, name: null }]);
    assert.equal(response.statusCode, 204, response.body);
    const got = (await get(idOf(2))).json();
    assert.deepEqual(got.capacity, {
      type: 'Property',
      value: 300,
      unitCode: 'C62',
      observedAt: '2026-11-20T05:00:00.000Z',
    });
    assert.equal(got.name, undefined);
  });

  it('deletes entities by id, reporting ones that do not exist or are no URI', async () => {
    const response = await ngsi(b.app, 'POST', `${OPS}/delete`, [
      idOf(6),
      'urn:ngsi-ld:Shelter:none',
      'bad id',
    ]);
    assert.equal(response.statusCode, 207, response.body);
    const result = response.json();
    assert.deepEqual(result.success, [idOf(6)]);
    assert.deepEqual(
      result.errors.map((e: BatchError) => [e.entityId, e.error.type]),
      [
        ['urn:ngsi-ld:Shelter:none', `${ERR}ResourceNotFound`],
        ['bad id', `${ERR}BadRequestData`],
      ],
    );
    assert.equal((await get(idOf(6))).statusCode, 404);
    assert.equal((await ngsi(b.app, 'POST', `${OPS}/delete`, [idOf(4)])).statusCode, 204);
  });

  it('takes each entity’s own @context in a JSON-LD batch', async () => {
    const context = { schema: 'https://schema.org/', seats: 'schema:seatingCapacity' };
    const response = await ngsi(
      b.app,
      'POST',
      `${OPS}/create`,
      [
        { '@context': [context, CORE], id: 'urn:ngsi-ld:Hall:1', type: 'Hall', seats: 500 },
        { id: 'urn:ngsi-ld:Hall:2', type: 'Hall' },
      ],
      { 'content-type': 'application/ld+json' },
    );
    assert.equal(response.statusCode, 207, response.body);
    assert.deepEqual(response.json().success, ['urn:ngsi-ld:Hall:1']);
    assert.match(response.json().errors[0].error.detail, /@context/);
    const got = (await get('urn:ngsi-ld:Hall:1')).json();
    assert.equal(got['https://schema.org/seatingCapacity'].value, 500);
  });

  it('refuses a body that is no array, and a batch larger than 1000 entities, writing nothing', async () => {
    const notArray = await ngsi(b.app, 'POST', `${OPS}/create`, shelter(7));
    assert.equal(notArray.statusCode, 400);
    assert.equal(notArray.json().type, `${ERR}BadRequestData`);
    const many = Array.from({ length: 1001 }, (_, n) => shelter(1000 + n));
    const tooMany = await ngsi(b.app, 'POST', `${OPS}/create`, many);
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.json().detail, /at most 1000/);
    assert.equal((await get(idOf(1000))).statusCode, 404);
    const badOption = await ngsi(b.app, 'POST', `${OPS}/upsert?options=sideways`, [shelter(7)]);
    assert.equal(badOption.json().type, `${ERR}InvalidRequest`);
  });
});

describe(`NGSI-LD query by POST (§5.7.2, Query §5.2.23) (${backend})`, () => {
  let b: BrokerTest;
  const query = (body: unknown, params = '') => ngsi(b.app, 'POST', `${OPS}/query${params}`, body);
  const ids = (response: { json(): unknown }) => (response.json() as { id: string }[]).map((e) => e.id);

  before(async () => {
    b = await startBroker();
    const park = { id: 'urn:ngsi-ld:Park:kotodai', type: 'Park', name: { value: '勾当台公園' } };
    const response = await ngsi(b.app, 'POST', `${OPS}/create`, [shelter(1), shelter(2), shelter(3), park]);
    assert.equal(response.statusCode, 201, response.body);
  });
  after(() => b.close());

  it('selects by entity selectors, any of which may match', async () => {
    const response = await query({
      type: 'Query',
      entities: [{ type: 'Park' }, { type: 'Shelter', id: idOf(2) }],
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(ids(response), ['urn:ngsi-ld:Park:kotodai', idOf(2)]);
    const pattern = await query({ type: 'Query', entities: [{ type: 'Shelter', idPattern: '00[13]$' }] });
    assert.deepEqual(ids(pattern), [idOf(1), idOf(3)]);
  });

  it('filters with q and geoQ, picks attrs, and pages as the URL asks', async () => {
    const response = await query(
      {
        type: 'Query',
        entities: [{ type: 'Shelter' }],
        q: 'capacity>=200',
        geoQ: { geometry: 'Point', coordinates: [140.872, 38.26], georel: 'near;maxDistance==50' },
        attrs: ['capacity'],
      },
      '?count=true&limit=1',
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['ngsild-results-count'], '1');
    const capacity = { ...shelter(2).capacity, observedAt: '2026-11-20T05:00:00.000Z' };
    assert.deepEqual(response.json(), [{ id: idOf(2), type: 'Shelter', capacity }]);
    const all = await query({ type: 'Query', entities: [{ type: 'Shelter' }], q: 'capacity>=200' });
    assert.deepEqual(ids(all), [idOf(2), idOf(3)]);
  });

  it('refuses a body that is not a Query, and members it cannot evaluate', async () => {
    const notQuery = await query({ entities: [{ type: 'Shelter' }] });
    assert.equal(notQuery.statusCode, 400);
    assert.equal(notQuery.json().type, `${ERR}BadRequestData`);
    const badGeo = await query({ type: 'Query', geoQ: { geometry: 'Point', georel: 'near;maxDistance==1' } });
    assert.equal(badGeo.json().type, `${ERR}InvalidRequest`);
    const temporalQ = await query({
      type: 'Query',
      temporalQ: { timerel: 'after', timeAt: '2026-01-01T00:00:00Z' },
    });
    assert.equal(temporalQ.statusCode, 422);
    assert.equal(temporalQ.json().type, `${ERR}OperationNotSupported`);
    const badQ = await query({ type: 'Query', q: 'capacity>>' });
    assert.equal(badQ.json().type, `${ERR}InvalidRequest`);
  });
});
