/**
 * Notifications over HTTP (ETSI GS CIM 009 §5.8.6, §5.3.1, §6.3.15): what a receiver gets when
 * entities change, filtered by the subscription's selectors, q, geoQ, triggers and watchedAttributes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, CORE, ISHINOMAKI, ngsi, SENDAI, shelter, startBroker } from './helpers.ts';
import {
  type Receiver,
  sleep,
  startReceiver,
  startWorker,
  subscription,
  waitFor,
} from './subscriptions-helpers.ts';

describe(`subscription notifications over HTTP (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    b = await startBroker();
    receiver = await startReceiver();
    worker = startWorker(b.t.db);
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  async function subscribe(path: string, members: Record<string, unknown> = {}, tenant = SENDAI) {
    const res = await ngsi(b.app, 'POST', '/subscriptions', subscription(receiver, path, members), {
      'ngsild-tenant': tenant,
    });
    assert.equal(res.statusCode, 201, res.body);
    return decodeURIComponent(String(res.headers.location).split('/').pop() ?? '');
  }

  async function createShelter(n: number, tenant = SENDAI, overrides: Record<string, unknown> = {}) {
    const res = await ngsi(b.app, 'POST', '/entities', shelter(n, overrides), { 'ngsild-tenant': tenant });
    assert.equal(res.statusCode, 201, res.body);
    return shelter(n).id;
  }

  async function patchAttrs(id: string, attrs: Record<string, unknown>) {
    const res = await ngsi(b.app, 'PATCH', `/entities/${encodeURIComponent(id)}/attrs`, attrs);
    assert.equal(res.statusCode, 204, res.body);
  }

  it('sends a normalized Notification with the context Link, tenant and receiverInfo headers', async () => {
    const subId = await subscribe('/all', {
      notificationTrigger: ['entityCreated'],
      notification: { endpoint: { receiverInfo: [{ key: 'X-Api-Key', value: 'secret-1' }] } },
    });
    const id = await createShelter(1);
    await waitFor('the notification', () => receiver.on('/all').length === 1);
    const [got] = receiver.on('/all');
    assert.ok(got);
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(
      got.headers.link,
      `<${CORE}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
    );
    assert.equal(got.headers['ngsild-tenant'], SENDAI);
    assert.equal(got.headers['x-api-key'], 'secret-1');
    assert.match(String(got.body.id), /^urn:ngsi-ld:Notification:/);
    assert.equal(got.body.type, 'Notification');
    assert.equal(got.body.subscriptionId, subId);
    assert.ok(Date.parse(String(got.body.notifiedAt)) > 0);
    assert.equal(got.body.data.length, 1);
    const entity = got.body.data[0];
    assert.equal(entity?.id, id);
    assert.equal(entity?.type, 'Shelter');
    assert.deepEqual(entity?.capacity, {
      type: 'Property',
      value: 100,
      unitCode: 'C62',
      observedAt: '2026-11-20T05:00:00.000Z',
    });
    const sub = (await ngsi(b.app, 'GET', `/subscriptions/${encodeURIComponent(subId)}`)).json();
    await waitFor('the status', async () => {
      const s = (await ngsi(b.app, 'GET', `/subscriptions/${encodeURIComponent(subId)}`)).json();
      return s.notification.timesSent === 1;
    });
    assert.equal(sub.status, 'active');
  });

  it('notifies only the entities whose new state matches q', async () => {
    await subscribe('/big', { q: 'capacity>250', notificationTrigger: ['entityCreated'] });
    await createShelter(2);
    const big = await createShelter(3);
    await waitFor('the notification', () => receiver.on('/big').length === 1);
    await sleep(200);
    assert.deepEqual(
      receiver.on('/big').map((r) => r.body.data[0]?.id),
      [big],
    );
  });

  it('notifies an update only of a watched attribute and only for the chosen triggers', async () => {
    await subscribe('/watch', { watchedAttributes: ['capacity'], notificationTrigger: ['attributeUpdated'] });
    const id = await createShelter(4);
    await patchAttrs(id, { name: { type: 'Property', value: 'renamed' } });
    await patchAttrs(id, { capacity: { type: 'Property', value: 450 } });
    await waitFor('the notification', () => receiver.on('/watch').length === 1);
    await sleep(200);
    assert.equal(receiver.on('/watch').length, 1);
    const capacity = receiver.on('/watch')[0]?.body.data[0]?.capacity as { value: number } | undefined;
    assert.equal(capacity?.value, 450);
  });

  it('renders keyValues with only the attributes asked for, and showChanges in normalized', async () => {
    await subscribe('/kv', {
      entities: [{ type: 'Shelter', idPattern: '.*-00[5]$' }],
      notification: { format: 'keyValues', attributes: ['capacity'] },
    });
    await subscribe('/changes', {
      entities: [{ type: 'Shelter', id: shelter(5).id }],
      notificationTrigger: ['attributeUpdated'],
      notification: { showChanges: true, attributes: ['capacity'] },
    });
    const id = await createShelter(5);
    await waitFor('the keyValues notification', () => receiver.on('/kv').length === 1);
    assert.deepEqual(receiver.on('/kv')[0]?.body.data, [{ id, type: 'Shelter', capacity: 500 }]);
    await patchAttrs(id, { capacity: { type: 'Property', value: 550 } });
    await waitFor('the update notification', () => receiver.on('/changes').length === 1);
    const capacity = receiver.on('/changes')[0]?.body.data[0]?.capacity as Record<string, unknown>;
    assert.equal(capacity.value, 550);
    assert.equal(capacity.previousValue, 500);
  });

  it('puts @context in the body for an application/ld+json endpoint', async () => {
    await subscribe('/ld', {
      entities: [{ type: 'Shelter', id: shelter(6).id }],
      notification: { endpoint: { accept: 'application/ld+json' } },
    });
    await createShelter(6);
    await waitFor('the notification', () => receiver.on('/ld').length === 1);
    const [got] = receiver.on('/ld');
    assert.equal(got?.headers['content-type'], 'application/ld+json');
    assert.equal(got?.headers.link, undefined);
    assert.equal(got?.body['@context'], CORE);
  });

  it('notifies a deletion with the entity’s id and type', async () => {
    const id = await createShelter(7);
    await subscribe('/gone', { entities: [{ type: 'Shelter', id }], notificationTrigger: ['entityDeleted'] });
    assert.equal((await ngsi(b.app, 'DELETE', `/entities/${encodeURIComponent(id)}`)).statusCode, 204);
    await waitFor('the notification', () => receiver.on('/gone').length === 1);
    assert.deepEqual(receiver.on('/gone')[0]?.body.data, [{ id, type: 'Shelter' }]);
  });

  it('matches geoQ against the entity’s location', async () => {
    await subscribe('/near', {
      notificationTrigger: ['entityCreated'],
      geoQ: { georel: 'near;maxDistance==500', geometry: 'Point', coordinates: [140.878, 38.26] },
    });
    await createShelter(8);
    await createShelter(60);
    await waitFor('the notification', () => receiver.on('/near').length === 1);
    await sleep(200);
    assert.deepEqual(
      receiver.on('/near').map((r) => r.body.data[0]?.id),
      [shelter(8).id],
    );
  });

  it('never shows a tenant the changes of another (石巻市 does not see 仙台市)', async () => {
    await subscribe('/ishinomaki', { notificationTrigger: ['entityCreated'] }, ISHINOMAKI);
    await createShelter(9);
    const theirs = await createShelter(10, ISHINOMAKI);
    await waitFor('the notification', () => receiver.on('/ishinomaki').length === 1);
    await sleep(200);
    const got = receiver.on('/ishinomaki');
    assert.deepEqual(
      got.map((r) => r.body.data[0]?.id),
      [theirs],
    );
    assert.equal(got[0]?.headers['ngsild-tenant'], ISHINOMAKI);
  });
});
