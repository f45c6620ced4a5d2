/**
 * The deployment's VAPID key pair: made once, the same for every app built on the database (after a
 * restart, in another process), stored sealed; and the subject push services are given.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  deliveryJobHandlers,
  ensureVapidKeys,
  PUSH_TEST_QUEUE,
  vapidSubject,
} from '../../src/delivery/index.ts';
import { buildApp } from '../../src/main.ts';
import { ConfigError, loadConfig, OutboundPolicy, SecretBox } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import { type DeliveryRig, type Resident, startDeliveryRig } from './rig.ts';

describe(`the VAPID key pair (${backend})`, () => {
  let t: DeliveryRig;
  let hanako: Resident;

  before(async () => {
    t = await startDeliveryRig();
    hanako = await t.resident();
  });
  after(() => t.close());

  it('is made once and kept across restarts and by every app on the database', async () => {
    const { applicationServerKey } = await hanako.json('/push/key', 200);
    await t.rig.restart();
    assert.deepEqual(await hanako.json('/push/key', 200), { applicationServerKey });

    // A second API process on the same database, as with N processes behind a load balancer.
    const config = testConfig({ PUBLIC_URL: t.rig.baseUrl });
    const other = await buildApp({ config, db: t.rig.testDb.db, box: t.rig.box });
    try {
      const answer = await other.inject({
        url: '/api/v1/me/notifications/push/key',
        headers: { authorization: `Bearer ${hanako.token}` },
      });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json(), { applicationServerKey });
    } finally {
      await other.close();
    }
    const { rows } = await t.rig.testDb.db.query('select count(*)::int as n from delivery.vapid_keys');
    assert.deepEqual(rows, [{ n: 1 }]);
  });

  it('keeps the private key sealed with the master key', async () => {
    const keys = await ensureVapidKeys(t.rig.testDb.db, t.rig.box);
    const { rows } = await t.rig.testDb.db.query<{ private_key_sealed: string }>(
      'select private_key_sealed from delivery.vapid_keys',
    );
    const sealed = rows[0]?.private_key_sealed ?? '';
    assert.match(sealed, /^v1\./);
    assert.ok(!sealed.includes(keys.privateKey));
    await assert.rejects(ensureVapidKeys(t.rig.testDb.db, new SecretBox(Buffer.alloc(32, 9))), /another key/);
  });

  it('signs with the configured subject, and the worker uses the key the API hands out', async () => {
    const { id, subscription } = await t.device(hanako);
    const config = testConfig({
      PUBLIC_URL: t.rig.baseUrl,
      VAPID_SUBJECT: 'mailto:push-admin@city.sendai.jp',
    });
    const handlers = deliveryJobHandlers(t.rig.testDb.db, {
      ...config,
      box: t.rig.box,
      outbound: new OutboundPolicy(config),
    });
    const job = { id: 0, queue: PUSH_TEST_QUEUE, tenantId: null, attempts: 1, maxAttempts: 10 };
    await handlers[PUSH_TEST_QUEUE]?.(
      { ...job, payload: { account: hanako.id, device: id, lang: 'en' } },
      new AbortController().signal,
    );
    const [message] = t.push.messages(subscription.endpoint);
    assert.equal(message?.claims.sub, 'mailto:push-admin@city.sendai.jp');
    assert.equal(message?.key, (await hanako.json('/push/key', 200)).applicationServerKey);
    assert.equal(JSON.parse(message?.text ?? '').title, 'Test notification');
  });

  it('takes its subject from PUBLIC_URL unless VAPID_SUBJECT is set, which must be mailto: or https:', () => {
    assert.equal(vapidSubject({ publicUrl: 'https://machi.city.sendai.jp' }), 'https://machi.city.sendai.jp');
    assert.equal(vapidSubject({ publicUrl: 'http://localhost:8080' }), 'mailto:webpush@localhost');
    assert.equal(
      vapidSubject({ publicUrl: 'https://machi.example', vapidSubject: 'mailto:ops@example.jp' }),
      'mailto:ops@example.jp',
    );
    assert.throws(() => loadConfig({ VAPID_SUBJECT: 'http://city.example' }), ConfigError);
    assert.equal(
      loadConfig({ VAPID_SUBJECT: 'mailto:ops@example.jp' }).vapidSubject,
      'mailto:ops@example.jp',
    );
  });
});
