/**
 * An independent NGSI-LD client (the `ngsijs` package, FIWARE's NGSI.js) drives the broker over real
 * HTTP: create, get, query with q, update, subscribe and receive a notification, delete.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brokerJobHandlers, loadBrokerConfig } from '../../src/broker/index.ts';
import { OutboundPolicy, Worker } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: ngsijs ships no types
const NGSI: any = require('ngsijs');

describe(`an independent NGSI-LD client (ngsijs) (${backend})`, () => {
  let server: TestServer;
  let worker: Worker;
  let receiver: http.Server;
  let receiverUrl: string;
  const notifications: { headers: http.IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: ngsijs ships no types
  let ld: any;
  const tenant = '041009';

  before(async () => {
    server = await startTestServer({}, { MACHI_AUTH: 'off' });
    worker = new Worker(server.testDb.db, {
      handlers: brokerJobHandlers(server.testDb.db, loadBrokerConfig({ MACHI_AUTH: 'off' }), {
        outbound: new OutboundPolicy(testConfig()),
      }),
      pollIntervalMs: 50,
    });
    worker.start();
    receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        notifications.push({ headers: request.headers, body: JSON.parse(body) });
        response.statusCode = 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
    ld = new NGSI.Connection(server.baseUrl).ld;
  });
  after(async () => {
    await worker.stop();
    receiver.close();
    await server.close();
  });

  it('creates, reads, queries, updates, is notified and deletes through ngsijs', async () => {
    await ld.createSubscription(
      {
        type: 'Subscription',
        entities: [{ type: 'Shelter' }],
        watchedAttributes: ['occupancy'],
        notification: { endpoint: { uri: receiverUrl, accept: 'application/json' }, format: 'keyValues' },
      },
      { tenant },
    );
    await ld.createEntity(
      {
        id: 'urn:ngsi-ld:Shelter:sendai-ngsijs',
        type: 'Shelter',
        name: { type: 'Property', value: '榴岡小学校' },
        occupancy: { type: 'Property', value: 12 },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.8961, 38.2612] } },
      },
      { tenant },
    );
    const got = await ld.getEntity({ id: 'urn:ngsi-ld:Shelter:sendai-ngsijs', tenant });
    assert.equal(got.entity.name.value, '榴岡小学校');

    const queried = await ld.queryEntities({ type: 'Shelter', q: 'occupancy<20', tenant, count: true });
    assert.deepEqual(
      queried.results.map((e: { id: string }) => e.id),
      ['urn:ngsi-ld:Shelter:sendai-ngsijs'],
    );
    assert.equal(queried.count, 1);

    await ld.updateEntityAttributes(
      { occupancy: { type: 'Property', value: 48 } },
      { id: 'urn:ngsi-ld:Shelter:sendai-ngsijs', tenant },
    );
    const updated = await ld.getEntity({ id: 'urn:ngsi-ld:Shelter:sendai-ngsijs', tenant, keyValues: true });
    assert.equal(updated.entity.occupancy, 48);

    const hasNewOccupancy = (n: { body: Record<string, unknown> }) =>
      (n.body.data as { occupancy?: number }[] | undefined)?.some((e) => e.occupancy === 48) ?? false;
    const deadline = Date.now() + 10_000;
    while (!notifications.some(hasNewOccupancy) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const last = notifications.find(hasNewOccupancy);
    assert.ok(last, `a notification with the new occupancy arrived (${notifications.length} received)`);
    assert.equal(last.body.type, 'Notification');
    assert.deepEqual(
      (last.body.data as { id: string; occupancy: number }[]).map((e) => [e.id, e.occupancy]),
      [['urn:ngsi-ld:Shelter:sendai-ngsijs', 48]],
    );
    assert.equal(last.headers['ngsild-tenant'], tenant);

    await ld.deleteEntity({ id: 'urn:ngsi-ld:Shelter:sendai-ngsijs', tenant });
    await assert.rejects(
      ld.getEntity({ id: 'urn:ngsi-ld:Shelter:sendai-ngsijs', tenant }),
      (error: { name?: string }) => /NotFound/.test(String(error.name)),
    );
  });
});
