import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, startBroker } from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const linkTo = (url: string) =>
  `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;

describe(`JSON-LD @context handling (§5.5.7, §6.3.5) (${backend})`, () => {
  let b: BrokerTest;
  let server: http.Server;
  let base: string;
  const served: string[] = [];

  before(async () => {
    server = http.createServer((request, response) => {
      served.push(request.url ?? '');
      if (request.url === '/shelter-context.jsonld') {
        response.setHeader('content-type', 'application/ld+json');
        response.end(
          JSON.stringify({
            '@context': {
              fdm: 'https://smartdatamodels.org/dataModel.Shelter/',
              Shelter: 'fdm:Shelter',
              capacity: 'fdm:capacity',
            },
          }),
        );
      } else if (request.url === '/huge.jsonld') {
        response.end(JSON.stringify({ '@context': { pad: 'x'.repeat(4096) } }));
      } else if (request.url === '/slow.jsonld') {
        setTimeout(() => response.end('{"@context": {}}'), 3000).unref();
      } else if (request.url === '/invalid.jsonld') {
        response.end(JSON.stringify({ '@context': { capacity: 5 } }));
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    b = await startBroker({ NGSILD_CONTEXT_TIMEOUT_MS: '500', NGSILD_CONTEXT_MAX_BYTES: '2048' });
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await b.close();
  });

  it('expands names with a context named in the Link header and compacts them back with it', async () => {
    const link = linkTo(`${base}/shelter-context.jsonld`);
    const body = {
      id: 'urn:ngsi-ld:Shelter:ctx-1',
      type: 'Shelter',
      capacity: { type: 'Property', value: 300 },
    };
    assert.equal((await ngsi(b.app, 'POST', '/entities', body, { link })).statusCode, 201);
    const withContext = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:ctx-1', undefined, { link });
    assert.deepEqual(withContext.json(), body);
    assert.equal(withContext.headers.link, link);
    const without = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:ctx-1')).json();
    assert.equal(without.type, 'https://smartdatamodels.org/dataModel.Shelter/Shelter');
    assert.ok('https://smartdatamodels.org/dataModel.Shelter/capacity' in without);
    const byType = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link });
    assert.deepEqual(
      byType.json().map((e: { id: string }) => e.id),
      ['urn:ngsi-ld:Shelter:ctx-1'],
    );
  });

  it('fetches a remote context once and keeps it in the database for every process and restart', async () => {
    assert.equal(served.filter((u) => u === '/shelter-context.jsonld').length, 1);
    const { rows } = await b.t.db.query<{ kind: string }>(
      'select kind from broker.jsonld_contexts where url = $1',
      [`${base}/shelter-context.jsonld`],
    );
    assert.deepEqual(rows, [{ kind: 'cached' }]);
  });

  it('answers LdContextNotAvailable (503) for a context that is missing, too slow or too large', async () => {
    for (const path of ['/missing.jsonld', '/slow.jsonld', '/huge.jsonld']) {
      const response = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, {
        link: linkTo(base + path),
      });
      assert.equal(response.statusCode, 503, `${path}: ${response.body}`);
      assert.equal(response.json().type, `${ERR}LdContextNotAvailable`);
    }
  });

  it('answers BadRequestData for a context that is not valid JSON-LD', async () => {
    const response = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, {
      link: linkTo(`${base}/invalid.jsonld`),
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().type, `${ERR}BadRequestData`);
  });

  it('never lets a user context redefine the core terms (the core context is protected and comes last)', async () => {
    const body = {
      '@context': [{ location: 'https://example.org/myLocation', type: 'https://example.org/myType' }],
      id: 'urn:ngsi-ld:Shelter:ctx-2',
      type: 'Shelter',
      location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.87, 38.26] } },
    };
    const response = await ngsi(b.app, 'POST', '/entities', body, { 'content-type': 'application/ld+json' });
    assert.equal(response.statusCode, 201, response.body);
    const got = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:ctx-2')).json();
    assert.equal(got.location.type, 'GeoProperty');
    assert.equal(got['https://example.org/myLocation'], undefined);
  });
});
