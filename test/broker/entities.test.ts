import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import {
  assertNgsiError,
  type BrokerTest,
  CORE,
  DEFAULT_VOCAB,
  ISHINOMAKI,
  ngsi,
  shelter,
  startBroker,
} from './helpers.ts';

describe(`NGSI-LD entities: create, retrieve, delete (§5.6.1, §5.7.1, §5.6.6) (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.close());

  it('creates an entity (201 with Location) and returns it as sent, in the normalized form', async () => {
    const created = await ngsi(b.app, 'POST', '/entities', shelter(1));
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers.location, '/ngsi-ld/v1/entities/urn%3Angsi-ld%3AShelter%3Asendai-001');
    const got = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001');
    assert.equal(got.statusCode, 200);
    assert.match(String(got.headers['content-type']), /^application\/json/);
    assert.match(
      String(got.headers.link),
      new RegExp(`<${CORE}>; rel="http://www.w3.org/ns/json-ld#context"`),
    );
    assert.deepEqual(
      got.json(),
      shelter(1, { capacity: { ...shelter(1).capacity, observedAt: '2026-11-20T05:00:00.000Z' } }),
    );
  });

  it('renders concise and keyValues, and system attributes only when asked', async () => {
    const concise = (
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001?format=concise')
    ).json();
    assert.deepEqual(concise.name, { languageMap: { ja: '避難所1', en: 'Shelter 1' } });
    assert.deepEqual(concise.capacity, {
      value: 100,
      unitCode: 'C62',
      observedAt: '2026-11-20T05:00:00.000Z',
    });
    const kv = (
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001?options=keyValues')
    ).json();
    assert.deepEqual(kv, {
      id: 'urn:ngsi-ld:Shelter:sendai-001',
      type: 'Shelter',
      name: { ja: '避難所1', en: 'Shelter 1' },
      capacity: 100,
      location: { type: 'Point', coordinates: [140.871, 38.26] },
    });
    const sys = (
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001?options=sysAttrs')
    ).json();
    assert.match(sys.createdAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.match(sys.capacity.modifiedAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal((kv as Record<string, unknown>).createdAt, undefined);
  });

  it('shows a LanguageProperty in the language asked for with lang (§4.15)', async () => {
    const en = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001?lang=en')).json();
    assert.deepEqual(en.name, { type: 'Property', value: 'Shelter 1', lang: 'en' });
    const fallback = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001?lang=ko')).json();
    assert.deepEqual(fallback.name, { type: 'Property', value: '避難所1', lang: 'ja' });
  });

  it('accepts the concise form on input and infers each attribute type', async () => {
    const response = await ngsi(b.app, 'POST', '/entities', {
      id: 'urn:ngsi-ld:Shelter:sendai-concise',
      type: 'Shelter',
      capacity: 250,
      open: true,
      operator: { object: 'urn:ngsi-ld:Organization:sendai-city' },
      location: { type: 'Point', coordinates: [140.8694, 38.2682] },
      category: { vocab: 'evacuationShelter' },
    });
    assert.equal(response.statusCode, 201, response.body);
    const got = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-concise')).json();
    assert.deepEqual(got.capacity, { type: 'Property', value: 250 });
    assert.deepEqual(got.open, { type: 'Property', value: true });
    assert.deepEqual(got.operator, { type: 'Relationship', object: 'urn:ngsi-ld:Organization:sendai-city' });
    assert.equal(got.location.type, 'GeoProperty');
    assert.deepEqual(got.category, { type: 'VocabProperty', vocab: 'evacuationShelter' });
  });

  it('keeps multi-attributes apart by datasetId, and refuses two instances with the same one', async () => {
    const ok = await ngsi(b.app, 'POST', '/entities', {
      id: 'urn:ngsi-ld:Shelter:sendai-multi',
      type: 'Shelter',
      occupancy: [
        { type: 'Property', value: 10 },
        { type: 'Property', value: 12, datasetId: 'urn:ngsi-ld:Dataset:checkin-app' },
      ],
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const got = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-multi')).json();
    assert.deepEqual(got.occupancy, [
      { type: 'Property', value: 10 },
      { type: 'Property', value: 12, datasetId: 'urn:ngsi-ld:Dataset:checkin-app' },
    ]);
    const twice = await ngsi(b.app, 'POST', '/entities', {
      id: 'urn:ngsi-ld:Shelter:sendai-multi2',
      type: 'Shelter',
      occupancy: [
        { type: 'Property', value: 1, datasetId: 'urn:ngsi-ld:Dataset:a' },
        { type: 'Property', value: 2, datasetId: 'urn:ngsi-ld:Dataset:a' },
      ],
    });
    const body = assertNgsiError(twice, 400, 'BadRequestData');
    assert.match(String(body.detail), /occupancy has two instances with datasetId urn:ngsi-ld:Dataset:a/);
  });

  it('keeps sub-attributes, and compacts names with the context of the request', async () => {
    const context = {
      schema: 'https://schema.org/',
      name: 'schema:name',
      Hospital: 'https://schema.org/Hospital',
    };
    const created = await ngsi(
      b.app,
      'POST',
      '/entities',
      {
        '@context': [context],
        id: 'urn:ngsi-ld:Hospital:sendai-1',
        type: 'Hospital',
        name: { type: 'Property', value: '仙台市立病院', source: { type: 'Property', value: 'open data' } },
      },
      { 'content-type': 'application/ld+json' },
    );
    assert.equal(created.statusCode, 201, created.body);
    const plain = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Hospital:sendai-1')).json();
    assert.equal(plain.type, 'https://schema.org/Hospital');
    assert.deepEqual(plain['https://schema.org/name'], {
      type: 'Property',
      value: '仙台市立病院',
      source: { type: 'Property', value: 'open data' },
    });
    const ld = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Hospital:sendai-1', undefined, {
      accept: 'application/ld+json',
    });
    assert.match(String(ld.headers['content-type']), /^application\/ld\+json/);
    assert.equal(ld.json()['@context'], CORE);
    assert.equal(ld.json()[`${DEFAULT_VOCAB}source`], undefined);
  });

  it('answers AlreadyExists (409) for a second entity with the same id', async () => {
    assertNgsiError(await ngsi(b.app, 'POST', '/entities', shelter(1)), 409, 'AlreadyExists');
  });

  it('refuses bad entities with BadRequestData naming what is wrong, and writes nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ id: 'shelter 1', type: 'Shelter' }, /id must be a URI/],
      [{ id: 'urn:ngsi-ld:Shelter:x1' }, /type must be a type name/],
      [
        { id: 'urn:ngsi-ld:Shelter:x2', type: 'Shelter', capacity: { type: 'Property' } },
        /capacity is a Property and needs "value"/,
      ],
      [
        { id: 'urn:ngsi-ld:Shelter:x3', type: 'Shelter', capacity: { type: 'Proprety', value: 1 } },
        /is not one of Property/,
      ],
      [{ id: 'urn:ngsi-ld:Shelter:x4', type: 'Shelter', 'bad name': 1 }, /not a valid name/],
      [
        {
          id: 'urn:ngsi-ld:Shelter:x5',
          type: 'Shelter',
          owner: { type: 'Relationship', object: 'not a uri' },
        },
        /owner\.object must be a URI/,
      ],
      [
        { id: 'urn:ngsi-ld:Shelter:x6', type: 'Shelter', capacity: { value: 1, observedAt: 'yesterday' } },
        /observedAt must be an ISO 8601/,
      ],
      [
        {
          id: 'urn:ngsi-ld:Shelter:x7',
          type: 'Shelter',
          location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [200, 38] } },
        },
        /location/,
      ],
      [
        {
          id: 'urn:ngsi-ld:Shelter:x8',
          type: 'Shelter',
          name: { type: 'LanguageProperty', languageMap: { 'ja jp': 'x' } },
        },
        /languageMap/,
      ],
      [[shelter(9)], /must be a JSON object/],
    ];
    for (const [body, detail] of cases) {
      const response = await ngsi(b.app, 'POST', '/entities', body);
      const problem = assertNgsiError(response, 400, 'BadRequestData');
      assert.match(String(problem.detail), detail);
    }
    const listed = (await ngsi(b.app, 'GET', '/entities?idPattern=:x[0-9]$')).json();
    assert.deepEqual(listed, []);
  });

  it('answers malformed JSON with InvalidRequest, and @context in a plain JSON body with BadRequestData', async () => {
    assertNgsiError(await ngsi(b.app, 'POST', '/entities', '{"id": "urn:x:1", '), 400, 'InvalidRequest');
    const withContext = await ngsi(b.app, 'POST', '/entities', { '@context': CORE, ...shelter(20) });
    assert.match(String(assertNgsiError(withContext, 400, 'BadRequestData').detail), /application\/ld\+json/);
    const both = await ngsi(
      b.app,
      'POST',
      '/entities',
      { '@context': CORE, ...shelter(21) },
      {
        'content-type': 'application/ld+json',
        link: `<${CORE}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
      },
    );
    assertNgsiError(both, 400, 'BadRequestData');
  });

  it('answers 406 for a representation it does not offer, and GeoJSON when asked', async () => {
    const html = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001', undefined, {
      accept: 'text/html',
    });
    assert.equal(html.statusCode, 406);
    const geo = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001', undefined, {
      accept: 'application/geo+json',
    });
    assert.match(String(geo.headers['content-type']), /^application\/geo\+json/);
    const feature = geo.json();
    assert.equal(feature.type, 'Feature');
    assert.deepEqual(feature.geometry, { type: 'Point', coordinates: [140.871, 38.26] });
    assert.equal(feature.properties.type, 'Shelter');
  });

  it('keeps tenants apart: another municipality neither sees nor deletes the entity', async () => {
    const other = { 'ngsild-tenant': ISHINOMAKI };
    assertNgsiError(
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001', undefined, other),
      404,
      'ResourceNotFound',
    );
    assertNgsiError(
      await ngsi(b.app, 'DELETE', '/entities/urn:ngsi-ld:Shelter:sendai-001', undefined, other),
      404,
      'ResourceNotFound',
    );
    assert.deepEqual((await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, other)).json(), []);
    assert.equal((await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-001')).statusCode, 200);
  });

  it('answers NonexistentTenant for an unknown or malformed tenant', async () => {
    const unknown = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, {
      'ngsild-tenant': '131016',
    });
    assert.match(String(assertNgsiError(unknown, 404, 'NonexistentTenant').detail), /131016/);
    const wrong = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, {
      'ngsild-tenant': '041008',
    });
    assert.match(String(assertNgsiError(wrong, 404, 'NonexistentTenant').detail), /check digit/);
  });

  it('deletes an entity (204), after which it is gone (404)', async () => {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(30))).statusCode, 201);
    assert.equal((await ngsi(b.app, 'DELETE', '/entities/urn:ngsi-ld:Shelter:sendai-030')).statusCode, 204);
    assertNgsiError(
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:sendai-030'),
      404,
      'ResourceNotFound',
    );
    assertNgsiError(
      await ngsi(b.app, 'DELETE', '/entities/urn:ngsi-ld:Shelter:sendai-030'),
      404,
      'ResourceNotFound',
    );
  });

  it('refuses an entity id in the path that is not a URI', async () => {
    assertNgsiError(await ngsi(b.app, 'GET', '/entities/shelter-1'), 400, 'BadRequestData');
  });
});

describe(`NGSI-LD access (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker({ MACHI_AUTH: 'on' });
  });
  after(() => b.close());

  it('lets anonymous callers read but not write when MACHI_AUTH is on', async () => {
    const write = await ngsi(b.app, 'POST', '/entities', shelter(1));
    assert.equal(write.statusCode, 401);
    assert.match(write.json().detail, /bearer token/);
    assert.equal((await ngsi(b.app, 'GET', '/entities?type=Shelter')).statusCode, 200);
  });
});
