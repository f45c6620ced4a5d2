/**
 * A resident's Web Push devices through the resident API: the key to subscribe with, registering
 * the browser's subscription, a test notification that a real push service decrypts and whose VAPID
 * signature it verifies, removing a device; another resident's device is not there for them, and a
 * subscription Machi could not push to is refused naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type DeliveryRig, eventually, type Json, type Resident, startDeliveryRig } from './rig.ts';

describe(`Web Push devices (${backend})`, () => {
  let t: DeliveryRig;
  let hanako: Resident;
  let taro: Resident;

  before(async () => {
    t = await startDeliveryRig();
    hanako = await t.resident('仙台 花子');
    taro = await t.resident('仙台 太郎');
  });
  after(() => t.close());

  it('hands out the deployment VAPID public key: a 65-byte uncompressed P-256 point', async () => {
    const { applicationServerKey } = await hanako.json('/push/key', 200);
    const point = Buffer.from(applicationServerKey as string, 'base64url');
    assert.equal(point.length, 65);
    assert.equal(point[0], 4);
    assert.equal((await fetch(`${t.rig.baseUrl}/api/v1/me/notifications/push/key`)).status, 401);
  });

  it('registers a device and sends it a test notification the push service decrypts', async () => {
    const { id, subscription } = await t.device(hanako, 'iPhone');
    const { devices } = await hanako.json('/push/devices', 200);
    assert.deepEqual(devices, [
      {
        id,
        label: 'iPhone',
        pushService: t.push.origin,
        createdAt: (devices as Json[])[0]?.createdAt,
        lastPush: null,
      },
    ]);
    assert.doesNotMatch(
      JSON.stringify(devices),
      /push\/|p256dh|auth/,
      'neither the endpoint nor keys are shown',
    );

    assert.deepEqual(await hanako.json(`/push/devices/${id}/test`, 202, { method: 'POST' }), {
      queued: true,
    });
    const [message] = await t.push.waitFor(subscription.endpoint, 1);
    assert.deepEqual(JSON.parse(message?.text ?? ''), {
      kind: 'test',
      title: 'テスト通知',
      body: 'この端末に Machi からのお知らせが届きます。',
      url: '/',
    });
    const { applicationServerKey } = await hanako.json('/push/key', 200);
    assert.equal(message?.key, applicationServerKey, 'signed with the key the browser subscribed with');
    assert.equal(message?.claims.aud, t.push.origin);
    assert.equal(message?.claims.sub, 'mailto:webpush@127.0.0.1', 'the subject defaults from PUBLIC_URL');
    assert.equal(message?.ttl, 300);
    assert.equal(message?.urgency, 'normal');
    assert.deepEqual(t.push.refused, []);

    const lastPush = await eventually(async () => {
      const listed = (await hanako.json('/push/devices', 200)).devices as Json[];
      return listed[0]?.lastPush ?? undefined;
    });
    assert.equal((lastPush as Json).status, 'sent');
  });

  it('keeps one device per endpoint: registering again updates it, and another resident takes it over', async () => {
    const { id, subscription } = await t.device(hanako, 'Firefox');
    const again = await hanako.json('/push/devices', 200, { method: 'POST', body: { ...subscription } });
    assert.equal(again.id, id);
    assert.equal(again.label, 'Firefox', 'a registration without a label keeps the label');
    // The same browser, now logged in as another resident: the subscription moves with it.
    const moved = await taro.json('/push/devices', 201, { method: 'POST', body: subscription });
    assert.notEqual(moved.id, id);
    const hers = (await hanako.json('/push/devices', 200)).devices as Json[];
    assert.ok(!hers.some((d) => d.id === id));
    await taro.json(`/push/devices/${moved.id}`, 204, { method: 'DELETE' });
  });

  it("answers 404 for another resident's device, as for one that does not exist", async () => {
    const { id, subscription } = await t.device(hanako, 'Pixel');
    for (const [path, method] of [
      [`/push/devices/${id}`, 'DELETE'],
      [`/push/devices/${id}/test`, 'POST'],
    ] as const) {
      const response = await taro.call(path, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(((await response.json()) as Json).type, 'urn:machi:problem:not-found');
    }
    const theirs = (await taro.json('/push/devices', 200)).devices as Json[];
    assert.ok(!theirs.some((d) => d.id === id));
    assert.equal(t.push.messages(subscription.endpoint).length, 0);
    // Hers to remove: gone from the list, and a second delete finds nothing.
    await hanako.json(`/push/devices/${id}`, 204, { method: 'DELETE' });
    assert.equal((await hanako.call(`/push/devices/${id}`, { method: 'DELETE' })).status, 404);
  });

  it('refuses a subscription Machi could not push to, naming the field', async () => {
    const good = t.push.subscribe();
    const cases: [string, Json, string, RegExp][] = [
      ['plain http', { ...good, endpoint: 'http://push.example.com/x' }, 'body/endpoint', /https/],
      ['not a URL', { ...good, endpoint: 'push service' }, 'body/endpoint', /not a URL/],
      ['a private address', { ...good, endpoint: 'https://10.0.0.8/push/1' }, 'body/endpoint', /private/],
      ['credentials', { ...good, endpoint: 'https://u:p@push.example.com/1' }, 'body/endpoint', /user name/],
      [
        'a short p256dh',
        { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(33, 2).toString('base64url') } },
        'body/keys/p256dh',
        /65-byte/,
      ],
      [
        'a compressed point',
        { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 2).toString('base64url') } },
        'body/keys/p256dh',
        /uncompressed/,
      ],
      [
        'a point off the curve',
        {
          ...good,
          keys: {
            ...good.keys,
            p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url'),
          },
        },
        'body/keys/p256dh',
        /curve/,
      ],
      [
        'not base64',
        { ...good, keys: { ...good.keys, p256dh: 'not base64!' } },
        'body/keys/p256dh',
        /base64url/,
      ],
      [
        'a long auth',
        { ...good, keys: { ...good.keys, auth: Buffer.alloc(32).toString('base64url') } },
        'body/keys/auth',
        /16 bytes/,
      ],
      ['no keys', { endpoint: good.endpoint }, 'body', /keys/],
    ];
    for (const [what, body, field, reason] of cases) {
      const response = await hanako.call('/push/devices', { method: 'POST', body });
      assert.equal(response.status, 400, what);
      const problem = (await response.json()) as Json & { invalidParams: Json[] };
      assert.equal(problem.type, 'urn:machi:problem:validation-failed', what);
      const named = problem.invalidParams.find((p) => p.name === field);
      assert.ok(named, `${what}: ${JSON.stringify(problem)}`);
      assert.match(String(named.reason), reason, what);
    }
    const labels = ((await hanako.json('/push/devices', 200)).devices as Json[]).map((d) => d.label);
    assert.deepEqual(labels, ['iPhone'], 'nothing refused was kept');
  });

  it('accepts padded and standard base64 keys as browsers and libraries send them', async () => {
    const sub = t.push.subscribe();
    const padded = (s: string) => Buffer.from(s, 'base64url').toString('base64');
    const body = { ...sub, keys: { p256dh: padded(sub.keys.p256dh), auth: padded(sub.keys.auth) } };
    const device = await hanako.json('/push/devices', 201, { method: 'POST', body });
    await hanako.json(`/push/devices/${device.id}`, 204, { method: 'DELETE' });
  });
});
