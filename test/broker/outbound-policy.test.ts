/**
 * The outbound policy where the broker calls out for clients: subscription endpoints (HTTP and MQTT)
 * and remote @contexts. The broker here allows no private address (OUTBOUND_ALLOW empty), so the
 * test receivers on 127.0.0.1 are out of bounds unless a test's own policy says otherwise; workers get
 * a resolver that knows `*.test` names, which the system's DNS does not: a delivery that reaches one
 * proves it connected to the checked address rather than resolving the name again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { loadConfig, OutboundPolicy, type Resolver, type Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { assertNgsiError, type BrokerTest, ngsi, shelter, startBroker } from './helpers.ts';
import { type Receiver, startReceiver, startWorker, subscription, waitFor } from './subscriptions-helpers.ts';

const NO_PRIVATE = { OUTBOUND_ALLOW: '' };

/** `*.test` names all resolve to 127.0.0.1. */
const testDns: Resolver = async (host) => {
  if (!host.endsWith('.test')) {
    throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  }
  return [{ address: '127.0.0.1', family: 4 }];
};
const workerPolicy = (env: Record<string, string>) => new OutboundPolicy(loadConfig(env), testDns);

const linkTo = (url: string) =>
  `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;

describe(`the outbound policy in the broker (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let port: number;
  let worker: Worker | undefined;

  before(async () => {
    b = await startBroker({}, NO_PRIVATE);
    receiver = await startReceiver();
    port = Number(new URL(receiver.url).port);
  });
  after(async () => {
    await worker?.stop();
    await receiver.close();
    await b.close();
  });

  /** Runs the broker's jobs with this policy for the rest of the test. */
  async function useWorker(outbound: OutboundPolicy) {
    await worker?.stop();
    worker = startWorker(b.t.db, outbound);
  }

  async function subscribe(n: number, uri: string, members: Record<string, unknown> = {}) {
    const body = subscription(receiver, '/', {
      entities: [{ type: 'Shelter', id: shelter(n).id }],
      ...members,
    });
    body.notification.endpoint.uri = uri;
    const res = await ngsi(b.app, 'POST', '/subscriptions', body);
    assert.equal(res.statusCode, 201, res.body);
    return String(res.headers.location).split('/').pop() as string;
  }

  const status = async (id: string) => (await ngsi(b.app, 'GET', `/subscriptions/${id}`)).json();

  async function jobs(id: string) {
    const { rows } = await b.t.db.query<{ state: string; attempts: number }>(
      `select state, attempts from platform.jobs where payload->>'subscriptionId' = $1 order by id`,
      [decodeURIComponent(id)],
    );
    return rows;
  }

  it('refuses at once a subscription to a private address, localhost or an IPv4-mapped loopback', async () => {
    const refused: [string, RegExp][] = [
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a cloud metadata service address/],
      [`http://127.0.0.1:${port}/notify`, /127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)/],
      [`http://[::1]:${port}/notify`, /::1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/notify`, /::ffff:7f00:1 is a loopback address/],
      [`http://localhost:${port}/notify`, /localhost is a loopback address/],
      ['https://10.0.0.8/hook', /10\.0\.0\.8 is a private network address/],
      ['mqtt://127.0.0.1:1883/machi/notify', /127\.0\.0\.1 is a loopback address/],
    ];
    for (const [uri, detail] of refused) {
      const body = subscription(receiver, '/');
      body.notification.endpoint.uri = uri;
      const error = assertNgsiError(await ngsi(b.app, 'POST', '/subscriptions', body), 400, 'BadRequestData');
      assert.match(String(error.detail), /^notification\.endpoint\.uri: /, uri);
      assert.match(String(error.detail), detail, uri);
    }
    assert.deepEqual((await ngsi(b.app, 'GET', '/subscriptions')).json(), []);
  });

  it('refuses an update that points a subscription at a private address; other updates pass', async () => {
    const id = await subscribe(90, 'https://hooks.example.org/ngsi');
    const res = await ngsi(b.app, 'PATCH', `/subscriptions/${id}`, {
      notification: { endpoint: { uri: 'http://192.168.1.1/admin' } },
    });
    assert.match(String(assertNgsiError(res, 400, 'BadRequestData').detail), /192\.168\.1\.1 is a private/);
    assert.equal((await ngsi(b.app, 'PATCH', `/subscriptions/${id}`, { isActive: false })).statusCode, 204);
    assert.equal((await status(id)).notification.endpoint.uri, 'https://hooks.example.org/ngsi');
    assert.equal((await ngsi(b.app, 'DELETE', `/subscriptions/${id}`)).statusCode, 204);
  });

  it('fails a notification, without retrying, when the endpoint’s name resolves to a loopback address', async () => {
    await useWorker(workerPolicy(NO_PRIVATE));
    const id = await subscribe(1, `http://hooks.test:${port}/denied`);
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(1))).statusCode, 201);
    await waitFor('the dead job', async () => (await jobs(id))[0]?.state === 'dead');
    assert.deepEqual(await jobs(id), [{ state: 'dead', attempts: 1 }]);
    const { notification } = await status(id);
    assert.equal(notification.status, 'failed');
    assert.equal(notification.timesFailed, 1);
    assert.ok(notification.lastFailure);
    assert.equal(
      notification.lastErrorReason,
      'the endpoint is not allowed: hooks.test resolves to a loopback address (127.0.0.0/8), which Machi does not call unless OUTBOUND_ALLOW lists it or OUTBOUND_PRIVATE=allow',
    );
    assert.deepEqual(receiver.on('/denied'), []);
  });

  it('delivers to a name whose address an allowed CIDR holds, at the address it checked', async () => {
    await useWorker(workerPolicy({ OUTBOUND_ALLOW: '127.0.0.0/8' }));
    const id = await subscribe(2, `http://hooks.test:${port}/allowed`);
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(2))).statusCode, 201);
    await waitFor('the notification', () => receiver.on('/allowed').length === 1);
    assert.equal(receiver.on('/allowed')[0]?.headers.host, `hooks.test:${port}`);
    await waitFor('the status', async () => (await status(id)).notification.status === 'ok');
  });

  it('refuses an MQTT broker whose name resolves to loopback, and publishes to an allowed one', async () => {
    const topic = `machi-test/${randomUUID()}`;
    await useWorker(workerPolicy(NO_PRIVATE));
    const denied = await subscribe(3, `mqtt://mqtt.test:1883/${topic}`);
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(3))).statusCode, 201);
    await waitFor('the failure', async () => (await status(denied)).notification.status === 'failed');
    assert.match(
      (await status(denied)).notification.lastErrorReason,
      /^the endpoint is not allowed: mqtt\.test resolves to a loopback address/,
    );
    assert.deepEqual(await jobs(denied), [{ state: 'dead', attempts: 1 }]);

    const client = await connectAsync('mqtt://127.0.0.1:1883');
    try {
      await client.subscribeAsync(topic, { qos: 1 });
      const message = new Promise<string>((resolve) =>
        client.on('message', (_t, payload) => resolve(String(payload))),
      );
      await useWorker(workerPolicy({ OUTBOUND_ALLOW: 'mqtt.test:1883' }));
      await subscribe(4, `mqtt://mqtt.test:1883/${topic}`);
      assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(4))).statusCode, 201);
      const got = JSON.parse(await message) as { body: { data: { id: string }[] } };
      assert.equal(got.body.data[0]?.id, shelter(4).id);
    } finally {
      await client.endAsync();
    }
  });
});

describe(`remote @contexts under the outbound policy (${backend})`, () => {
  let strict: BrokerTest;
  let scoped: BrokerTest;
  let server: http.Server;
  let other: http.Server;
  let base: string;
  let otherBase: string;
  const served: string[] = [];
  const context = JSON.stringify({ '@context': { capacity: 'https://example.org/capacity' } });

  before(async () => {
    other = http.createServer((request, response) => {
      served.push(`other${request.url}`);
      response.setHeader('content-type', 'application/ld+json');
      response.end(context);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    server = http.createServer((request, response) => {
      served.push(request.url ?? '');
      const to: Record<string, string> = {
        '/to-other.jsonld': `${otherBase}/ctx.jsonld`,
        '/to-metadata.jsonld': 'http://169.254.169.254/latest/meta-data/',
        '/to-self.jsonld': '/ctx.jsonld',
      };
      const location = to[request.url ?? ''];
      if (location) {
        response.writeHead(302, { location }).end();
      } else {
        response.setHeader('content-type', 'application/ld+json');
        response.end(context);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    strict = await startBroker({}, NO_PRIVATE);
    // This one may fetch from the context server's port only.
    scoped = await startBroker({}, { OUTBOUND_ALLOW: `127.0.0.1:${port}` });
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    other.closeAllConnections();
    other.close();
    await strict.close();
    await scoped.close();
  });

  const query = (broker: BrokerTest, url: string) =>
    ngsi(broker.app, 'GET', '/entities?type=Shelter', undefined, { link: linkTo(url) });

  it('answers LdContextNotAvailable for a context on a private address, without fetching it', async () => {
    served.length = 0;
    const cases: [string, RegExp][] = [
      [`${base}/ctx.jsonld`, /is not fetched: 127\.0\.0\.1 is a loopback address/],
      [
        `${base.replace('127.0.0.1', 'localhost')}/ctx.jsonld`,
        /is not fetched: localhost resolves to a loopback/,
      ],
      [
        'http://169.254.169.254/ctx.jsonld',
        /is not fetched: 169\.254\.169\.254 is a cloud metadata service address/,
      ],
      ['http://[::ffff:a9fe:a9fe]/ctx.jsonld', /is not fetched: ::ffff:a9fe:a9fe is a cloud metadata/],
    ];
    for (const [url, detail] of cases) {
      const error = assertNgsiError(await query(strict, url), 503, 'LdContextNotAvailable');
      assert.match(String(error.detail), detail, url);
    }
    assert.deepEqual(served, []);
  });

  it('checks each redirect of a context fetch: one to a private address is not followed', async () => {
    served.length = 0;
    const toOther = assertNgsiError(
      await query(scoped, `${base}/to-other.jsonld`),
      503,
      'LdContextNotAvailable',
    );
    assert.match(String(toOther.detail), /is not fetched: 127\.0\.0\.1 is a loopback address/);
    const toMetadata = assertNgsiError(
      await query(scoped, `${base}/to-metadata.jsonld`),
      503,
      'LdContextNotAvailable',
    );
    assert.match(String(toMetadata.detail), /169\.254\.169\.254 is a cloud metadata service address/);
    assert.deepEqual(served, ['/to-other.jsonld', '/to-metadata.jsonld']);
    // A redirect to an allowed place is followed.
    assert.equal((await query(scoped, `${base}/to-self.jsonld`)).statusCode, 200);
    assert.deepEqual(served.slice(2), ['/to-self.jsonld', '/ctx.jsonld']);
  });
});
