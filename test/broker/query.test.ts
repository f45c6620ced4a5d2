import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, shelter, startBroker } from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const ids = (response: { json(): unknown }) => (response.json() as { id: string }[]).map((e) => e.id);

describe(`NGSI-LD query entities (§5.7.2) (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
    for (let n = 1; n <= 5; n++) {
      const response = await ngsi(b.app, 'POST', '/entities', shelter(n));
      assert.equal(response.statusCode, 201, response.body);
    }
    const park = {
      id: 'urn:ngsi-ld:Park:sendai-kotodai',
      type: 'Park',
      name: { type: 'Property', value: '勾当台公園' },
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.8707, 38.2679] } },
    };
    assert.equal((await ngsi(b.app, 'POST', '/entities', park)).statusCode, 201);
  });
  after(() => b.close());

  it('selects by type, id list and idPattern, in id order', async () => {
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/entities?type=Park')), [
      'urn:ngsi-ld:Park:sendai-kotodai',
    ]);
    assert.equal(ids(await ngsi(b.app, 'GET', '/entities?type=Shelter,Park')).length, 6);
    assert.deepEqual(
      ids(
        await ngsi(
          b.app,
          'GET',
          '/entities?id=urn:ngsi-ld:Shelter:sendai-002,urn:ngsi-ld:Shelter:sendai-004',
        ),
      ),
      ['urn:ngsi-ld:Shelter:sendai-002', 'urn:ngsi-ld:Shelter:sendai-004'],
    );
    assert.deepEqual(
      ids(await ngsi(b.app, 'GET', `/entities?idPattern=${encodeURIComponent('sendai-00[13]$')}`)),
      ['urn:ngsi-ld:Shelter:sendai-001', 'urn:ngsi-ld:Shelter:sendai-003'],
    );
  });

  it('pages with limit and offset and counts with count=true (NGSILD-Results-Count)', async () => {
    const page = await ngsi(b.app, 'GET', '/entities?type=Shelter&limit=2&offset=2&count=true');
    assert.deepEqual(ids(page), ['urn:ngsi-ld:Shelter:sendai-003', 'urn:ngsi-ld:Shelter:sendai-004']);
    assert.equal(page.headers['ngsild-results-count'], '5');
    const onlyCount = await ngsi(b.app, 'GET', '/entities?type=Shelter&limit=0&count=true');
    assert.deepEqual(onlyCount.json(), []);
    assert.equal(onlyCount.headers['ngsild-results-count'], '5');
  });

  it('answers TooManyResults past the maximum page and InvalidRequest for bad paging', async () => {
    const tooMany = await ngsi(b.app, 'GET', '/entities?type=Shelter&limit=5000');
    assert.equal(tooMany.statusCode, 403);
    assert.equal(tooMany.json().type, `${ERR}TooManyResults`);
    for (const query of ['limit=-1', 'offset=x', 'count=maybe', 'limit=0']) {
      const response = await ngsi(b.app, 'GET', `/entities?type=Shelter&${query}`);
      assert.equal(response.statusCode, 400, query);
      assert.equal(response.json().type, `${ERR}InvalidRequest`, query);
    }
  });

  it('keeps only the attributes asked for with attrs or pick, and drops those in omit', async () => {
    const picked = (await ngsi(b.app, 'GET', '/entities?type=Shelter&attrs=capacity&limit=1')).json()[0];
    assert.deepEqual(Object.keys(picked).sort(), ['capacity', 'id', 'type']);
    const omitted = (await ngsi(b.app, 'GET', '/entities?type=Shelter&omit=location,name&limit=1')).json()[0];
    assert.deepEqual(Object.keys(omitted).sort(), ['capacity', 'id', 'type']);
  });

  it('filters with q (§4.9) and with geo-queries (§4.10)', async () => {
    assert.deepEqual(
      ids(
        await ngsi(
          b.app,
          'GET',
          `/entities?type=Shelter&q=${encodeURIComponent('capacity>=300;capacity<500')}`,
        ),
      ),
      ['urn:ngsi-ld:Shelter:sendai-003', 'urn:ngsi-ld:Shelter:sendai-004'],
    );
    const near = await ngsi(
      b.app,
      'GET',
      // Shelters stand 0.001° (about 87 m) apart along 38.26°N; the park is about 880 m north.
      `/entities?georel=${encodeURIComponent('near;maxDistance==100')}&geometry=Point&coordinates=${encodeURIComponent('[140.873,38.26]')}`,
    );
    assert.deepEqual(ids(near), [
      'urn:ngsi-ld:Shelter:sendai-002',
      'urn:ngsi-ld:Shelter:sendai-003',
      'urn:ngsi-ld:Shelter:sendai-004',
    ]);
    const within = await ngsi(
      b.app,
      'GET',
      `/entities?georel=within&geometry=Polygon&coordinates=${encodeURIComponent('[[[140.86,38.265],[140.88,38.265],[140.88,38.27],[140.86,38.27],[140.86,38.265]]]')}`,
    );
    assert.deepEqual(ids(within), ['urn:ngsi-ld:Park:sendai-kotodai']);
  });

  it('answers a malformed q, geo-query or idPattern with a precise InvalidRequest, never a 500', async () => {
    for (const query of [
      `q=${encodeURIComponent('capacity>>3')}`,
      `q=${encodeURIComponent('(capacity==1')}`,
      `georel=near&geometry=Point&coordinates=${encodeURIComponent('[140,38]')}`,
      `georel=within&geometry=Point`,
      `idPattern=${encodeURIComponent('(unclosed')}`,
    ]) {
      const response = await ngsi(b.app, 'GET', `/entities?${query}`);
      assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
      assert.match(response.json().type, /InvalidRequest|BadRequestData/, query);
    }
  });

  it('returns a FeatureCollection for application/geo+json', async () => {
    const response = await ngsi(b.app, 'GET', '/entities?type=Park', undefined, {
      accept: 'application/geo+json',
    });
    const collection = response.json();
    assert.equal(collection.type, 'FeatureCollection');
    assert.deepEqual(collection.features[0].geometry, { type: 'Point', coordinates: [140.8707, 38.2679] });
  });
});
