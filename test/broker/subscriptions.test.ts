/** Subscriptions CRUD and validation (ETSI GS CIM 009 §5.8.1–5.8.5, §5.2.12). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, CORE, ISHINOMAKI, ngsi, startBroker } from './helpers.ts';

const ENDPOINT = { uri: 'http://127.0.0.1:9/notify' };

function body(members: Record<string, unknown> = {}) {
  return {
    type: 'Subscription',
    entities: [{ type: 'Shelter' }],
    notification: { endpoint: ENDPOINT },
    ...members,
  };
}

describe(`subscriptions API (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.close());

  async function create(members: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const res = await ngsi(b.app, 'POST', '/subscriptions', body(members), headers);
    assert.equal(res.statusCode, 201, res.body);
    return decodeURIComponent(String(res.headers.location).split('/').pop() ?? '');
  }

  async function problem(method: 'POST' | 'PATCH', path: string, payload: unknown, status = 400) {
    const res = await ngsi(b.app, method, path, payload);
    assert.equal(res.statusCode, status, res.body);
    return res.json() as { type: string; detail: string };
  }

  it('creates a subscription with a generated id and shows it with its defaults and status', async () => {
    const id = await create({ q: 'capacity>100', watchedAttributes: ['capacity'] });
    assert.match(id, /^urn:ngsi-ld:Subscription:[0-9a-f-]{36}$/);
    const res = await ngsi(b.app, 'GET', `/subscriptions/${encodeURIComponent(id)}`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers.link), new RegExp(CORE.replace(/\./g, '\\.')));
    assert.deepEqual(res.json(), {
      id,
      type: 'Subscription',
      entities: [{ type: 'Shelter' }],
      watchedAttributes: ['capacity'],
      notificationTrigger: ['attributeCreated', 'attributeUpdated'],
      q: 'capacity>100',
      isActive: true,
      status: 'active',
      notification: {
        format: 'normalized',
        endpoint: { uri: ENDPOINT.uri, accept: 'application/json' },
        timesSent: 0,
        timesFailed: 0,
      },
    });
  });

  it('keeps a given id and refuses a second subscription with it', async () => {
    const id = 'urn:ngsi-ld:Subscription:shelters';
    assert.equal(await create({ id }), id);
    const res = await ngsi(b.app, 'POST', '/subscriptions', body({ id }));
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().type, 'https://uri.etsi.org/ngsi-ld/errors/AlreadyExists');
  });

  it('compacts terms with the reader’s @context and answers JSON-LD with @context in the body', async () => {
    const context = { '@context': { shelter: 'https://example.org/vocab#Shelter' } };
    const res = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      { ...body({ entities: [{ type: 'shelter' }] }), ...context },
      { 'content-type': 'application/ld+json' },
    );
    assert.equal(res.statusCode, 201, res.body);
    const id = String(res.headers.location).split('/').pop() as string;
    const plain = await ngsi(b.app, 'GET', `/subscriptions/${id}`);
    assert.deepEqual(plain.json().entities, [{ type: 'https://example.org/vocab#Shelter' }]);
    const ld = await ngsi(b.app, 'GET', `/subscriptions/${id}`, undefined, { accept: 'application/ld+json' });
    assert.equal(ld.json()['@context'], CORE);
  });

  it('lists subscriptions in pages with a count', async () => {
    const res = await ngsi(b.app, 'GET', '/subscriptions?limit=1&offset=1&count=true');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['ngsild-results-count'], '3');
    assert.equal(res.json().length, 1);
  });

  it('updates part of a subscription, merging the notification member, and pauses it', async () => {
    const id = await create({ notification: { endpoint: ENDPOINT, attributes: ['name'] } });
    const path = `/subscriptions/${encodeURIComponent(id)}`;
    const patch = await ngsi(b.app, 'PATCH', path, {
      isActive: false,
      notification: { format: 'keyValues' },
    });
    assert.equal(patch.statusCode, 204, patch.body);
    const sub = (await ngsi(b.app, 'GET', path)).json();
    assert.equal(sub.status, 'paused');
    assert.equal(sub.notification.format, 'keyValues');
    assert.deepEqual(sub.notification.attributes, ['name']);
    assert.equal((await ngsi(b.app, 'PATCH', path, { id: 'urn:x:other' })).statusCode, 400);
    assert.equal(
      (await ngsi(b.app, 'PATCH', '/subscriptions/urn:x:none', { isActive: true })).statusCode,
      404,
    );
  });

  it('deletes a subscription, then answers 404 for it', async () => {
    const id = encodeURIComponent(await create());
    assert.equal((await ngsi(b.app, 'DELETE', `/subscriptions/${id}`)).statusCode, 204);
    assert.equal((await ngsi(b.app, 'GET', `/subscriptions/${id}`)).statusCode, 404);
    assert.equal((await ngsi(b.app, 'DELETE', `/subscriptions/${id}`)).statusCode, 404);
  });

  it('keeps each tenant’s subscriptions to itself', async () => {
    const id = encodeURIComponent(await create({}, { 'ngsild-tenant': ISHINOMAKI }));
    assert.equal((await ngsi(b.app, 'GET', `/subscriptions/${id}`)).statusCode, 404);
    assert.equal((await ngsi(b.app, 'DELETE', `/subscriptions/${id}`)).statusCode, 404);
    const own = await ngsi(b.app, 'GET', `/subscriptions/${id}`, undefined, { 'ngsild-tenant': ISHINOMAKI });
    assert.equal(own.statusCode, 200);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['no notification', { notification: undefined }, /notification is required/],
    ['an ftp endpoint', { notification: { endpoint: { uri: 'ftp://x/y' } } }, /http, https, mqtt or mqtts/],
    ['an MQTT endpoint without topic', { notification: { endpoint: { uri: 'mqtt://h:1883' } } }, /topic/],
    ['neither entities nor watchedAttributes', { entities: undefined }, /entities, watchedAttributes/],
    [
      'an entity selector without type',
      { entities: [{ id: 'urn:x:1' }] },
      /entities\[0\] must be an object with a type/,
    ],
    ['a malformed q', { q: 'capacity>>1' }, /^q: /],
    ['a q pattern PostgreSQL refuses', { q: 'name~=a{2,1}' }, /not a valid regular expression/],
    [
      'a geoQ without coordinates',
      { geoQ: { georel: 'near;maxDistance==10', geometry: 'Point' } },
      /coordinates/,
    ],
    ['an expiresAt in the past', { expiresAt: '2001-01-01T00:00:00Z' }, /in the past/],
    [
      'timeInterval with throttling',
      { timeInterval: 10, throttling: 5 },
      /cannot be combined with throttling/,
    ],
    ['an unknown trigger', { notificationTrigger: ['entityChanged'] }, /is not one of/],
    ['a negative throttling', { throttling: -1 }, /greater than 0/],
    ['an unknown format', { notification: { endpoint: ENDPOINT, format: 'tabular' } }, /notification.format/],
    [
      'an MQTT QoS of 3',
      { notification: { endpoint: { ...ENDPOINT, notifierInfo: [{ key: 'MQTT-QoS', value: '3' }] } } },
      /MQTT-QoS/,
    ],
    ['a wrong type', { type: 'Registration' }, /type must be "Subscription"/],
  ];
  for (const [what, members, message] of invalid) {
    it(`refuses a subscription with ${what}`, async () => {
      const p = await problem('POST', '/subscriptions', body(members));
      assert.match(p.type, /errors\/(BadRequestData|InvalidRequest)$/);
      assert.match(p.detail, message);
    });
  }

  it('refuses a scopeQ that is not in the scope query language, naming the mistake', async () => {
    const p = await problem('POST', '/subscriptions', body({ scopeQ: 'Miyagi' }));
    assert.match(p.type, /errors\/InvalidRequest$/);
    assert.equal(p.detail, 'scopeQ: a scope starts with "/" at position 1');
  });

  it('validates a partial update against the whole subscription', async () => {
    const id = encodeURIComponent(await create());
    const p = await problem('PATCH', `/subscriptions/${id}`, { timeInterval: 60, throttling: 1 });
    assert.match(p.detail, /cannot be combined/);
  });
});
