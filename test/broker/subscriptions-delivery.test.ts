/**
 * Delivery behaviour (ETSI GS CIM 009 §5.8.6, §5.2.12, §7): retries and the status members,
 * throttling, expiry and pausing, periodic notification, MQTT, and jobs bound to the change's commit.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { insertEntity } from '../../src/broker/entities/store.ts';
import type { Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { freePort as closedPort } from '../helpers/machi.ts';
import { type BrokerTest, DEFAULT_VOCAB, ngsi, SENDAI, shelter, startBroker } from './helpers.ts';
import {
  type Receiver,
  sleep,
  startReceiver,
  startWorker,
  subscription,
  waitFor,
} from './subscriptions-helpers.ts';

interface MqttMessage {
  metadata: Record<string, string>;
  body: { type: string; data: { id: string }[] };
}

describe(`subscription delivery (${backend})`, () => {
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

  /** A subscription to one shelter's changes (each test uses its own shelter). */
  async function subscribe(path: string, n: number, members: Record<string, unknown> = {}) {
    const body = subscription(receiver, path, {
      entities: [{ type: 'Shelter', id: shelter(n).id }],
      ...members,
    });
    const res = await ngsi(b.app, 'POST', '/subscriptions', body);
    assert.equal(res.statusCode, 201, res.body);
    return String(res.headers.location).split('/').pop() as string;
  }

  async function create(n: number) {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(n))).statusCode, 201);
  }

  async function setCapacity(n: number, value: number) {
    const res = await ngsi(b.app, 'PATCH', `/entities/${encodeURIComponent(shelter(n).id)}/attrs`, {
      capacity: { type: 'Property', value },
    });
    assert.equal(res.statusCode, 204, res.body);
  }

  const status = async (id: string) => (await ngsi(b.app, 'GET', `/subscriptions/${id}`)).json();

  async function jobs(subscriptionId: string) {
    const { rows } = await b.t.db.query<{ state: string; attempts: number }>(
      `select state, attempts from platform.jobs where payload->>'subscriptionId' = $1 order by id`,
      [decodeURIComponent(subscriptionId)],
    );
    return rows;
  }

  it('retries a failing endpoint with backoff, delivers once, and records every attempt', async () => {
    receiver.answer('/flaky', [500, 500, 200]);
    const id = await subscribe('/flaky', 1);
    await create(1);
    await waitFor('the delivery', () => receiver.on('/flaky').length === 1);
    await waitFor('the status', async () => (await status(id)).notification.timesSent === 1);
    const { notification } = await status(id);
    assert.equal(notification.status, 'ok');
    assert.equal(notification.timesFailed, 2);
    assert.equal(notification.lastErrorReason, 'the endpoint answered 500');
    assert.ok(notification.lastFailure < notification.lastSuccess);
    assert.equal(notification.lastNotification, notification.lastSuccess);
    await sleep(200);
    assert.equal(receiver.on('/flaky').length, 1);
  });

  it('gives up after the last attempt: the job is dead and the failure recorded', async () => {
    const body = subscription(receiver, '/x', { entities: [{ type: 'Shelter', id: shelter(2).id }] });
    body.notification.endpoint.uri = `http://127.0.0.1:${await closedPort()}/closed`;
    const res = await ngsi(b.app, 'POST', '/subscriptions', body);
    const id = String(res.headers.location).split('/').pop() as string;
    await create(2);
    await waitFor('the dead job', async () => (await jobs(id))[0]?.state === 'dead');
    assert.equal((await jobs(id))[0]?.attempts, 5);
    const { notification } = await status(id);
    assert.equal(notification.status, 'failed');
    assert.equal(notification.timesFailed, 5);
    assert.equal(notification.timesSent, 0);
    assert.match(notification.lastErrorReason, /could not reach the endpoint: ECONNREFUSED/);
  });

  it('drops notifications within the throttling window (§5.8.6) and sends again after it', async () => {
    await subscribe('/throttled', 3, { throttling: 1 });
    await subscribe('/control-3', 3);
    await create(3);
    await setCapacity(3, 301);
    await setCapacity(3, 302);
    await waitFor('the control', () => receiver.on('/control-3').length === 3);
    await sleep(100);
    assert.equal(receiver.on('/throttled').length, 1);
    await sleep(1000);
    await setCapacity(3, 303);
    await waitFor('the next window', () => receiver.on('/throttled').length === 2);
  });

  it('sends nothing for a paused or expired subscription, and resumes when activated', async () => {
    const paused = await subscribe('/paused', 4, { isActive: false });
    const expiring = await subscribe('/expiring', 4, {
      expiresAt: new Date(Date.now() + 1000).toISOString(),
    });
    await subscribe('/control-4', 4);
    await sleep(1100);
    await create(4);
    await waitFor('the control', () => receiver.on('/control-4').length === 1);
    await sleep(200);
    assert.equal(receiver.on('/paused').length, 0);
    assert.equal(receiver.on('/expiring').length, 0);
    assert.equal((await status(expiring)).status, 'expired');
    assert.equal((await status(paused)).status, 'paused');
    assert.equal(
      (await ngsi(b.app, 'PATCH', `/subscriptions/${paused}`, { isActive: true })).statusCode,
      204,
    );
    await setCapacity(4, 401);
    await waitFor('the resumed subscription', () => receiver.on('/paused').length === 1);
  });

  it('sends the matching entities every timeInterval, and stops when paused', async () => {
    await create(5);
    const id = await subscribe('/periodic', 5, { timeInterval: 1 });
    await waitFor('two periods', () => receiver.on('/periodic').length >= 2, 5000);
    assert.deepEqual(
      receiver.on('/periodic')[0]?.body.data.map((e) => e.id),
      [shelter(5).id],
    );
    assert.equal((await ngsi(b.app, 'PATCH', `/subscriptions/${id}`, { isActive: false })).statusCode, 204);
    await sleep(300);
    const sent = receiver.on('/periodic').length;
    await sleep(1500);
    assert.equal(receiver.on('/periodic').length, sent);
    const pending = (await jobs(id)).filter((j) => j.state === 'pending' || j.state === 'running');
    assert.deepEqual(pending, []);
  });

  it('publishes {metadata, body} to an MQTT topic with the asked QoS (§7.2)', async () => {
    const topic = `machi-test/${randomUUID()}`;
    const client = await connectAsync('mqtt://127.0.0.1:1883');
    try {
      await client.subscribeAsync(topic, { qos: 1 });
      const message = new Promise<{ qos: number; json: MqttMessage }>((resolve) =>
        client.on('message', (_t, payload, packet) =>
          resolve({ qos: packet.qos, json: JSON.parse(payload.toString()) }),
        ),
      );
      await subscribe('/unused', 6, {
        notification: {
          endpoint: {
            uri: `mqtt://127.0.0.1:1883/${topic}`,
            notifierInfo: [{ key: 'MQTT-QoS', value: '1' }],
          },
        },
      });
      await create(6);
      const { qos, json } = await message;
      assert.equal(qos, 1);
      assert.equal(json.metadata['Content-Type'], 'application/json');
      assert.equal(json.metadata['NGSILD-Tenant'], SENDAI);
      assert.match(String(json.metadata.Link), /rel="http:\/\/www.w3.org\/ns\/json-ld#context"/);
      assert.equal(json.body.type, 'Notification');
      assert.equal(json.body.data[0]?.id, shelter(6).id);
    } finally {
      await client.endAsync();
    }
  });

  it('queues a notification exactly when the change commits', async () => {
    const id = await subscribe('/commit', 7, { notificationTrigger: ['entityCreated'] });
    const entity = () => ({ id: shelter(7).id, types: [`${DEFAULT_VOCAB}Shelter`], scopes: null, attrs: {} });
    await assert.rejects(
      b.t.db.withTenant(SENDAI, async (tx) => {
        await insertEntity(tx, SENDAI, entity());
        throw new Error('the write fails after the change hook ran');
      }),
    );
    assert.deepEqual(await jobs(id), []);
    await b.t.db.withTenant(SENDAI, (tx) => insertEntity(tx, SENDAI, entity()));
    await waitFor('the notification', () => receiver.on('/commit').length === 1);
    assert.equal((await jobs(id)).length, 1);
  });
});
