import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ISHINOMAKI, NGSI, ngsi, startBroker } from './helpers.ts';

const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
const FDM = 'https://smartdatamodels.org/dataModel.Shelter/';
const linkTo = (url: string) =>
  `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
const shelterContext = { '@context': { fdm: FDM, Shelter: 'fdm:Shelter', capacity: 'fdm:capacity' } };

describe(`/jsonldContexts: hosted and cached @contexts (§5.13) (${backend})`, () => {
  let b: BrokerTest;
  let server: http.Server;
  let base: string;
  const served: string[] = [];
  /** What the remote server says `capacity` means; changed to see a reload take effect. */
  let capacityIri = 'https://example.org/v1/capacity';

  before(async () => {
    server = http.createServer((request, response) => {
      served.push(request.url ?? '');
      if (request.url === '/broken.jsonld' && served.filter((u) => u === request.url).length > 1) {
        response.statusCode = 500;
        response.end();
        return;
      }
      response.setHeader('content-type', 'application/ld+json');
      response.end(JSON.stringify({ '@context': { capacity: capacityIri } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    b = await startBroker();
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await b.close();
  });

  async function host(document: unknown): Promise<{ id: string; url: string }> {
    const response = await ngsi(b.app, 'POST', '/jsonldContexts', document);
    assert.equal(response.statusCode, 201, response.body);
    const location = String(response.headers.location);
    assert.match(location, /^\/ngsi-ld\/v1\/jsonldContexts\/[0-9a-f-]{36}$/);
    const id = location.split('/').pop() as string;
    const info = (await ngsi(b.app, 'GET', `/jsonldContexts/${id}?details=true`)).json();
    return { id, url: info.url };
  }

  it('hosts a context under its own URL and resolves that URL without the network', async () => {
    const { id, url } = await host(shelterContext);
    assert.match(url, new RegExp(`^http://localhost:\\d+${NGSI}/jsonldContexts/${id}$`));
    const link = linkTo(url);
    const body = {
      id: 'urn:ngsi-ld:Shelter:hosted-1',
      type: 'Shelter',
      capacity: { type: 'Property', value: 80 },
    };
    assert.equal((await ngsi(b.app, 'POST', '/entities', body, { link })).statusCode, 201);
    const read = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:hosted-1', undefined, { link });
    assert.deepEqual(read.json(), body);
    const expanded = (await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:hosted-1')).json();
    assert.equal(expanded.type, `${FDM}Shelter`);
    // Behind a proxy clients may use another host name; the path still names the hosted context.
    const elsewhere = linkTo(`http://machi.invalid:8080${NGSI}/jsonldContexts/${id}`);
    const viaProxy = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link: elsewhere });
    assert.equal(viaProxy.statusCode, 200, viaProxy.body);
    assert.deepEqual(
      viaProxy.json().map((e: { id: string }) => e.id),
      ['urn:ngsi-ld:Shelter:hosted-1'],
    );
  });

  it('serves a hosted context document, and its ContextInfo with details=true', async () => {
    const { id, url } = await host(shelterContext);
    const document = await ngsi(b.app, 'GET', `/jsonldContexts/${id}`, undefined, {
      accept: 'application/ld+json',
    });
    assert.equal(document.statusCode, 200, document.body);
    assert.equal(document.headers['content-type'], 'application/ld+json; charset=utf-8');
    assert.deepEqual(document.json(), shelterContext);
    const { createdAt, ...info } = (await ngsi(b.app, 'GET', `/jsonldContexts/${id}?details=true`)).json();
    assert.deepEqual(info, { url, localId: id, kind: 'Hosted' });
    assert.ok(Math.abs(Date.parse(createdAt) - Date.now()) < 60_000, createdAt);
  });

  it('lists stored contexts as URLs, as ContextInfo with details=true, and by kind; for every tenant', async () => {
    const { url } = await host({ '@context': { river: 'https://example.org/river' } });
    const urls = (await ngsi(b.app, 'GET', '/jsonldContexts')).json();
    assert.ok(urls.includes(url), JSON.stringify(urls));
    const other = (
      await ngsi(b.app, 'GET', '/jsonldContexts', undefined, { 'ngsild-tenant': ISHINOMAKI })
    ).json();
    assert.deepEqual(other, urls);
    const hosted = (await ngsi(b.app, 'GET', '/jsonldContexts?kind=Hosted&details=true')).json();
    assert.ok(hosted.every((c: { kind: string }) => c.kind === 'Hosted'));
    assert.ok(hosted.some((c: { url: string }) => c.url === url));
    const cached = (await ngsi(b.app, 'GET', '/jsonldContexts?kind=Cached')).json();
    assert.ok(!cached.includes(url));
    assert.deepEqual((await ngsi(b.app, 'GET', '/jsonldContexts?kind=ImplicitlyCreated')).json(), []);
  });

  it('keeps a remote context it had to fetch as Cached, found by local id or by its URL', async () => {
    const url = `${base}/remote.jsonld`;
    const used = await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link: linkTo(url) });
    assert.equal(used.statusCode, 200, used.body);
    const cached = (await ngsi(b.app, 'GET', '/jsonldContexts?kind=Cached&details=true')).json();
    const info = cached.find((c: { url: string }) => c.url === url);
    assert.equal(info?.kind, 'Cached');
    for (const id of [info.localId, encodeURIComponent(url)]) {
      const document = await ngsi(b.app, 'GET', `/jsonldContexts/${id}`);
      assert.equal(document.statusCode, 200, document.body);
      assert.deepEqual(document.json(), { '@context': { capacity: capacityIri } });
    }
  });

  it('reloads a cached context on DELETE with reload=true, and requests use the fresh copy at once', async () => {
    const url = `${base}/reloaded.jsonld`;
    const link = linkTo(url);
    const body = {
      id: 'urn:ngsi-ld:Shelter:reload-1',
      type: 'Shelter',
      capacity: { type: 'Property', value: 1 },
    };
    assert.equal((await ngsi(b.app, 'POST', '/entities', body, { link })).statusCode, 201);
    capacityIri = 'https://example.org/v2/capacity';
    const stale = (
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:reload-1', undefined, { link })
    ).json();
    assert.ok('capacity' in stale, 'the stored copy is used until it is reloaded');
    const reload = await ngsi(b.app, 'DELETE', `/jsonldContexts/${encodeURIComponent(url)}?reload=true`);
    assert.equal(reload.statusCode, 204, reload.body);
    const fresh = (
      await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:reload-1', undefined, { link })
    ).json();
    assert.ok('https://example.org/v1/capacity' in fresh, JSON.stringify(fresh));
    assert.ok(!('capacity' in fresh));
  });

  it('removes a cached context on DELETE, so the next use fetches it again', async () => {
    const url = `${base}/removed.jsonld`;
    await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link: linkTo(url) });
    const removed = await ngsi(b.app, 'DELETE', `/jsonldContexts/${encodeURIComponent(url)}`);
    assert.equal(removed.statusCode, 204, removed.body);
    assert.ok(!(await ngsi(b.app, 'GET', '/jsonldContexts')).json().includes(url));
    await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link: linkTo(url) });
    assert.equal(served.filter((u) => u === '/removed.jsonld').length, 2);
  });

  it('keeps the old copy and answers 504 LdContextNotAvailable when a reload cannot fetch', async () => {
    const url = `${base}/broken.jsonld`;
    await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { link: linkTo(url) });
    const reload = await ngsi(b.app, 'DELETE', `/jsonldContexts/${encodeURIComponent(url)}?reload=true`);
    assert.equal(reload.statusCode, 504, reload.body);
    assert.equal(reload.json().type, `${ERR}LdContextNotAvailable`);
    assert.ok((await ngsi(b.app, 'GET', '/jsonldContexts?kind=Cached')).json().includes(url));
  });

  it('deletes a hosted context: it is gone, and requests naming it answer LdContextNotAvailable', async () => {
    const { id, url } = await host({ '@context': { lake: 'https://example.org/lake' } });
    const link = linkTo(url);
    assert.equal((await ngsi(b.app, 'GET', '/entities?type=lake', undefined, { link })).statusCode, 200);
    const reload = await ngsi(b.app, 'DELETE', `/jsonldContexts/${id}?reload=true`);
    assert.equal(reload.statusCode, 400);
    assert.equal(reload.json().type, `${ERR}BadRequestData`);
    assert.equal((await ngsi(b.app, 'DELETE', `/jsonldContexts/${id}`)).statusCode, 204);
    const gone = await ngsi(b.app, 'GET', `/jsonldContexts/${id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().type, `${ERR}ResourceNotFound`);
    const using = await ngsi(b.app, 'GET', '/entities?type=lake', undefined, { link });
    assert.equal(using.statusCode, 503, using.body);
    assert.equal(using.json().type, `${ERR}LdContextNotAvailable`);
    assert.equal((await ngsi(b.app, 'DELETE', `/jsonldContexts/${id}`)).statusCode, 404);
  });

  it('refuses what is not a usable context document, and bad parameters', async () => {
    const cases: [unknown, string][] = [
      [{ capacity: 'https://example.org/capacity' }, 'BadRequestData'],
      [{ '@context': { capacity: 5 } }, 'BadRequestData'],
      [{ '@context': {}, extra: 1 }, 'BadRequestData'],
      [[shelterContext], 'BadRequestData'],
      ['{"@context": ', 'InvalidRequest'],
    ];
    for (const [body, type] of cases) {
      const response = await ngsi(b.app, 'POST', '/jsonldContexts', body);
      assert.equal(response.statusCode, 400, `${JSON.stringify(body)}: ${response.body}`);
      assert.equal(response.json().type, `${ERR}${type}`);
    }
    for (const path of ['/jsonldContexts?kind=Remote', '/jsonldContexts?details=1']) {
      const response = await ngsi(b.app, 'GET', path);
      assert.equal(response.statusCode, 400, path);
      assert.equal(response.json().type, `${ERR}InvalidRequest`);
    }
  });

  it('accepts a context document sent as application/ld+json', async () => {
    const response = await ngsi(b.app, 'POST', '/jsonldContexts', shelterContext, {
      'content-type': 'application/ld+json',
    });
    assert.equal(response.statusCode, 201, response.body);
  });
});

describe(`/jsonldContexts with MACHI_AUTH=on (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker({ MACHI_AUTH: 'on' });
  });
  after(() => b.close());

  it('lets anonymous callers list contexts but not add or delete them', async () => {
    assert.equal((await ngsi(b.app, 'GET', '/jsonldContexts')).statusCode, 200);
    assert.equal((await ngsi(b.app, 'POST', '/jsonldContexts', shelterContext)).statusCode, 401);
    assert.equal((await ngsi(b.app, 'DELETE', '/jsonldContexts/anything')).statusCode, 401);
  });
});
