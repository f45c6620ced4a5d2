import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import {
  type BrokerTest,
  CORE,
  DEFAULT_VOCAB,
  ISHINOMAKI,
  ngsi,
  SENDAI,
  shelter,
  startBroker,
} from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const WEATHER = 'https://smartdatamodels.org/dataModel.Weather/';
const LOCATION = 'https://uri.etsi.org/ngsi-ld/location';
const linkTo = (url: string) =>
  `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;

const sensor = {
  id: 'urn:ngsi-ld:Sensor:sendai-1',
  type: 'Sensor',
  name: { type: 'Property', value: 'thermometer' },
  temperature: { type: 'Property', value: 4.5 },
  refShelter: { type: 'Relationship', object: 'urn:ngsi-ld:Shelter:sendai-001' },
};
/** A school that is also a shelter: two types, one attribute. */
const school = {
  id: 'urn:ngsi-ld:School:sendai-1',
  type: ['School', 'Shelter'],
  name: { type: 'LanguageProperty', languageMap: { ja: '小学校' } },
};
/** A multi-attribute: two instances of capacity, told apart by datasetId. */
const twoCapacities = shelter(2, {
  capacity: [
    { type: 'Property', value: 200 },
    { type: 'Property', value: 50, datasetId: 'urn:ngsi-ld:Dataset:annex' },
  ],
});

describe(`discovery: /types and /attributes (§5.7.5–5.7.10) (${backend})`, () => {
  let b: BrokerTest;
  let server: http.Server;
  let weatherLink: string;

  before(async () => {
    server = http.createServer((_request, response) => {
      response.setHeader('content-type', 'application/ld+json');
      response.end(
        JSON.stringify({
          '@context': {
            fdm: WEATHER,
            WeatherObserved: 'fdm:WeatherObserved',
            airTemperature: 'fdm:airTemperature',
          },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    weatherLink = linkTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}/weather.jsonld`);
    b = await startBroker();
    for (const entity of [shelter(1), twoCapacities, sensor, school]) {
      const created = await ngsi(b.app, 'POST', '/entities', entity);
      assert.equal(created.statusCode, 201, created.body);
    }
    const weather = {
      id: 'urn:ngsi-ld:WeatherObserved:sendai-1',
      type: 'WeatherObserved',
      airTemperature: { type: 'Property', value: 3.2 },
    };
    assert.equal((await ngsi(b.app, 'POST', '/entities', weather, { link: weatherLink })).statusCode, 201);
    const bridge = {
      id: 'urn:ngsi-ld:Bridge:ishinomaki-1',
      type: 'Bridge',
      span: { type: 'Property', value: 120 },
    };
    const other = await ngsi(b.app, 'POST', '/entities', bridge, { 'ngsild-tenant': ISHINOMAKI });
    assert.equal(other.statusCode, 201, other.body);
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await b.close();
  });

  it('lists the entity types of the tenant as an EntityTypeList, compacted with the core context', async () => {
    const response = await ngsi(b.app, 'GET', '/types');
    assert.equal(response.statusCode, 200, response.body);
    const { id, ...rest } = response.json();
    assert.match(id, /^urn:ngsi-ld:EntityTypeList:[0-9a-f-]{36}$/);
    assert.deepEqual(rest, {
      type: 'EntityTypeList',
      typeList: ['School', 'Sensor', 'Shelter', `${WEATHER}WeatherObserved`],
    });
    assert.equal(response.headers.link, linkTo(CORE));
  });

  it("compacts names with the request's user context", async () => {
    const types = (await ngsi(b.app, 'GET', '/types', undefined, { link: weatherLink })).json();
    assert.deepEqual(types.typeList, ['School', 'Sensor', 'Shelter', 'WeatherObserved']);
    const attributes = (await ngsi(b.app, 'GET', '/attributes', undefined, { link: weatherLink })).json();
    assert.deepEqual(attributes.attributeList, [
      'airTemperature',
      'capacity',
      'location',
      'name',
      'refShelter',
      'temperature',
    ]);
    const one = await ngsi(b.app, 'GET', '/types/WeatherObserved', undefined, { link: weatherLink });
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.json().id, `${WEATHER}WeatherObserved`);
    assert.equal(one.headers.link, weatherLink);
  });

  it('gives each type with its attribute names when details=true', async () => {
    const response = await ngsi(b.app, 'GET', '/types?details=true');
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), [
      { id: `${DEFAULT_VOCAB}School`, type: 'EntityType', typeName: 'School', attributeNames: ['name'] },
      {
        id: `${DEFAULT_VOCAB}Sensor`,
        type: 'EntityType',
        typeName: 'Sensor',
        attributeNames: ['name', 'refShelter', 'temperature'],
      },
      {
        id: `${DEFAULT_VOCAB}Shelter`,
        type: 'EntityType',
        typeName: 'Shelter',
        attributeNames: ['capacity', 'location', 'name'],
      },
      {
        id: `${WEATHER}WeatherObserved`,
        type: 'EntityType',
        typeName: `${WEATHER}WeatherObserved`,
        attributeNames: [`${WEATHER}airTemperature`],
      },
    ]);
  });

  it('describes one type as EntityTypeInfo: entity count and attribute details', async () => {
    const response = await ngsi(b.app, 'GET', '/types/Shelter');
    assert.equal(response.statusCode, 200, response.body);
    const attribute = (name: string, id: string, attributeTypes: string[], typeNames: string[]) => ({
      id,
      type: 'Attribute',
      attributeName: name,
      attributeTypes,
      typeNames,
    });
    assert.deepEqual(response.json(), {
      id: `${DEFAULT_VOCAB}Shelter`,
      type: 'EntityTypeInfo',
      typeName: 'Shelter',
      entityCount: 3,
      attributeDetails: [
        attribute('capacity', `${DEFAULT_VOCAB}capacity`, ['Property'], ['Shelter']),
        attribute('location', LOCATION, ['GeoProperty'], ['Shelter']),
        attribute('name', `${DEFAULT_VOCAB}name`, ['LanguageProperty'], ['School', 'Shelter']),
      ],
    });
  });

  it('lists attribute names as an AttributeList', async () => {
    const response = await ngsi(b.app, 'GET', '/attributes');
    assert.equal(response.statusCode, 200, response.body);
    const { id, ...rest } = response.json();
    assert.match(id, /^urn:ngsi-ld:AttributeList:[0-9a-f-]{36}$/);
    assert.deepEqual(rest, {
      type: 'AttributeList',
      attributeList: [
        'capacity',
        `${WEATHER}airTemperature`,
        'location',
        'name',
        'refShelter',
        'temperature',
      ],
    });
  });

  it('counts instances, attribute types and entity types of each attribute when details=true', async () => {
    const response = await ngsi(b.app, 'GET', '/attributes?details=true', undefined, { link: weatherLink });
    assert.equal(response.statusCode, 200, response.body);
    const byName = Object.fromEntries(
      response.json().map((a: { attributeName: string }) => [a.attributeName, a]),
    );
    assert.deepEqual(Object.keys(byName), [
      'airTemperature',
      'capacity',
      'location',
      'name',
      'refShelter',
      'temperature',
    ]);
    assert.deepEqual(byName.capacity, {
      id: `${DEFAULT_VOCAB}capacity`,
      type: 'Attribute',
      attributeName: 'capacity',
      attributeCount: 3,
      attributeTypes: ['Property'],
      typeNames: ['Shelter'],
    });
    assert.deepEqual(byName.name.attributeTypes, ['LanguageProperty', 'Property']);
    assert.deepEqual(byName.name.typeNames, ['School', 'Sensor', 'Shelter']);
    assert.equal(byName.name.attributeCount, 4);
    assert.deepEqual(byName.refShelter.attributeTypes, ['Relationship']);
    assert.deepEqual(byName.airTemperature.typeNames, ['WeatherObserved']);
  });

  it('describes one attribute (§5.7.10)', async () => {
    const response = await ngsi(b.app, 'GET', '/attributes/location');
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      id: LOCATION,
      type: 'Attribute',
      attributeName: 'location',
      attributeCount: 2,
      attributeTypes: ['GeoProperty'],
      typeNames: ['Shelter'],
    });
    const byIri = await ngsi(b.app, 'GET', `/attributes/${encodeURIComponent(`${WEATHER}airTemperature`)}`);
    assert.equal(byIri.statusCode, 200, byIri.body);
    assert.equal(byIri.json().attributeCount, 1);
  });

  it("never shows another tenant's types or attributes", async () => {
    const sendai = (await ngsi(b.app, 'GET', '/types')).json();
    assert.ok(!sendai.typeList.includes('Bridge'));
    const ishinomaki = await ngsi(b.app, 'GET', '/types?details=true', undefined, {
      'ngsild-tenant': ISHINOMAKI,
    });
    assert.deepEqual(ishinomaki.json(), [
      { id: `${DEFAULT_VOCAB}Bridge`, type: 'EntityType', typeName: 'Bridge', attributeNames: ['span'] },
    ]);
    for (const path of ['/types/Bridge', '/attributes/span']) {
      const response = await ngsi(b.app, 'GET', path, undefined, { 'ngsild-tenant': SENDAI });
      assert.equal(response.statusCode, 404, `${path}: ${response.body}`);
      assert.equal(response.json().type, `${ERR}ResourceNotFound`);
    }
  });

  it('answers JSON-LD with the @context in the body when asked for application/ld+json', async () => {
    const one = await ngsi(b.app, 'GET', '/types/Sensor', undefined, { accept: 'application/ld+json' });
    assert.equal(one.headers['content-type'], 'application/ld+json; charset=utf-8');
    assert.equal(one.json()['@context'], CORE);
    assert.equal(one.headers.link, undefined);
    const list = await ngsi(b.app, 'GET', '/attributes?details=true', undefined, {
      accept: 'application/ld+json',
      link: weatherLink,
    });
    for (const attribute of list.json()) {
      assert.deepEqual(attribute['@context'], [/<(.*)>/.exec(weatherLink)?.[1], CORE]);
    }
  });

  it('answers ResourceNotFound, InvalidRequest, NonexistentTenant and 406 where they apply', async () => {
    const unknownType = await ngsi(b.app, 'GET', '/types/Volcano');
    assert.equal(unknownType.statusCode, 404);
    assert.equal(unknownType.json().type, `${ERR}ResourceNotFound`);
    const unknownAttribute = await ngsi(b.app, 'GET', '/attributes/magnitude');
    assert.equal(unknownAttribute.statusCode, 404);
    assert.equal(unknownAttribute.json().type, `${ERR}ResourceNotFound`);
    const badDetails = await ngsi(b.app, 'GET', '/types?details=yes');
    assert.equal(badDetails.statusCode, 400);
    assert.equal(badDetails.json().type, `${ERR}InvalidRequest`);
    const noTenant = await ngsi(b.app, 'GET', '/attributes', undefined, { 'ngsild-tenant': '999999' });
    assert.equal(noTenant.statusCode, 404);
    assert.equal(noTenant.json().type, `${ERR}NonexistentTenant`);
    const geo = await ngsi(b.app, 'GET', '/types', undefined, { accept: 'application/geo+json' });
    assert.equal(geo.statusCode, 406);
  });
});
