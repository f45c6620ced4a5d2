/**
 * `notifyResident` from another module's transaction: one inbox item and one push per device for
 * one idempotency key, nothing when the change rolls back, a subscription the push service has ended
 * removed, a busy push service retried without pushing twice to the devices that have it, and a
 * refusal kept as the device's failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Notify, notifyResident } from '../../src/delivery/index.ts';
import { BadRequest } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { type DeliveryRig, eventually, type Json, type Resident, SENDAI, startDeliveryRig } from './rig.ts';

describe(`notifying a resident (${backend})`, () => {
  let t: DeliveryRig;
  let hanako: Resident;
  let keys = 0;

  const notify = (who: Resident, more: Partial<Notify> = {}) =>
    t.rig.testDb.db.withTenant(SENDAI, (tx) =>
      notifyResident(tx, {
        tenant: SENDAI,
        accountId: who.id,
        kind: 'epost.letter',
        title: '市県民税の通知書が届きました',
        body: '電子郵便ポストに 1 通の郵便があります。',
        url: '/letters/1',
        idempotencyKey: `letter-${++keys}`,
        ...more,
      }),
    );

  /** The push job of an inbox item, once the worker has finished with it. */
  const finishedJob = (id: string) =>
    eventually(async () => {
      const { rows } = await t.rig.testDb.db.query<{ state: string; attempts: number }>(
        `select state, attempts from platform.jobs where queue = 'delivery.push' and idempotency_key = $1`,
        [id],
      );
      return rows[0]?.state === 'done' || rows[0]?.state === 'dead' ? rows[0] : undefined;
    });

  const deliveries = (id: string) =>
    t.rig.testDb.db.withTenant(SENDAI, async (tx) => {
      const { rows } = await tx.query<Json>(
        `select device_id, status, http_status, reason, attempts from delivery.push_deliveries
          where notification_id = $1 order by device_id`,
        [id],
      );
      return new Map(rows.map((r) => [r.device_id as string, r]));
    });

  before(async () => {
    t = await startDeliveryRig();
    hanako = await t.resident();
  });
  after(() => t.close());

  it('makes one inbox item and one push per device for one idempotency key, however often called', async () => {
    const phone = await t.device(hanako, 'phone');
    const laptop = await t.device(hanako, 'laptop');
    const first = await notify(hanako, { idempotencyKey: 'letter-twice', urgency: 'high', ttlSeconds: 3600 });
    const second = await notify(hanako, { idempotencyKey: 'letter-twice', title: 'もう一度' });
    assert.equal(first.created, true);
    assert.deepEqual(second, { id: first.id, created: false });

    for (const device of [phone, laptop]) {
      const [message] = await t.push.waitFor(device.subscription.endpoint, 1);
      assert.deepEqual(JSON.parse(message?.text ?? ''), {
        id: first.id,
        kind: 'epost.letter',
        municipality: SENDAI,
        title: '市県民税の通知書が届きました',
        body: '電子郵便ポストに 1 通の郵便があります。',
        url: '/letters/1',
      });
      assert.equal(message?.urgency, 'high');
      assert.equal(message?.ttl, 3600);
    }
    assert.equal((await finishedJob(first.id)).attempts, 1);
    const { notifications } = await hanako.json('', 200);
    assert.equal((notifications as Json[]).length, 1);
    const status = await deliveries(first.id);
    assert.equal(status.get(phone.id)?.status, 'sent');
    assert.equal(status.get(laptop.id)?.status, 'sent');
    for (const device of [phone, laptop]) {
      assert.equal(t.push.messages(device.subscription.endpoint).length, 1, 'pushed once');
      await hanako.json(`/push/devices/${device.id}`, 204, { method: 'DELETE' });
    }
  });

  it('notifies no one when the change that caused it rolls back', async () => {
    const rolledBack = t.rig.testDb.db.withTenant(SENDAI, async (tx) => {
      await notifyResident(tx, {
        tenant: SENDAI,
        accountId: hanako.id,
        kind: 'epost.letter',
        title: '届かない通知',
        body: '',
        idempotencyKey: 'rolled-back',
      });
      throw new Error('the letter could not be stored');
    });
    await assert.rejects(rolledBack, /could not be stored/);
    const { notifications } = await hanako.json('', 200);
    assert.ok(!(notifications as Json[]).some((n) => n.title === '届かない通知'));
    const { rows } = await t.rig.testDb.db.query(
      `select 1 from platform.jobs where idempotency_key = 'rolled-back'`,
    );
    assert.equal(rows.length, 0);
  });

  it('removes a device whose subscription the push service has ended (410, 404)', async () => {
    const gone = await t.device(hanako, 'old browser');
    const missing = await t.device(hanako, 'reset phone');
    const kept = await t.device(hanako, 'tablet');
    t.push.unsubscribe(gone.subscription.endpoint);
    t.push.answer(missing.subscription.endpoint, 404);
    const { id } = await notify(hanako);
    await t.push.waitFor(kept.subscription.endpoint, 1);
    assert.equal((await finishedJob(id)).attempts, 1, 'an ended subscription is no reason to retry');
    const status = await deliveries(id);
    assert.deepEqual(
      [status.get(gone.id)?.status, status.get(gone.id)?.http_status, status.get(missing.id)?.http_status],
      ['gone', 410, 404],
    );
    const devices = ((await hanako.json('/push/devices', 200)).devices as Json[]).map((d) => d.id);
    assert.deepEqual(devices, [kept.id]);
    await hanako.json(`/push/devices/${kept.id}`, 204, { method: 'DELETE' });
  });

  it('retries a busy push service (500, 429) and pushes once to every device', async () => {
    const busy = await t.device(hanako, 'busy');
    const limited = await t.device(hanako, 'limited');
    const fine = await t.device(hanako, 'fine');
    t.push.answer(busy.subscription.endpoint, 500);
    t.push.answer(limited.subscription.endpoint, 429, 503);
    const { id } = await notify(hanako);
    for (const device of [busy, limited, fine]) await t.push.waitFor(device.subscription.endpoint, 1);
    assert.equal((await finishedJob(id)).attempts, 3);
    for (const device of [busy, limited, fine]) {
      assert.equal(t.push.messages(device.subscription.endpoint).length, 1, 'delivered once');
    }
    const status = await deliveries(id);
    assert.deepEqual(
      [busy, limited, fine].map((d) => [status.get(d.id)?.status, status.get(d.id)?.attempts]),
      [
        ['sent', 2],
        ['sent', 3],
        ['sent', 1],
      ],
    );
    for (const d of [busy, limited, fine])
      await hanako.json(`/push/devices/${d.id}`, 204, { method: 'DELETE' });
  });

  it('keeps a refusal for good as the device failure, with the reason, and does not retry', async () => {
    const refused = await t.device(hanako, 'refused');
    t.push.answer(refused.subscription.endpoint, 403);
    const { id } = await notify(hanako);
    assert.equal((await finishedJob(id)).attempts, 1);
    const status = (await deliveries(id)).get(refused.id);
    assert.deepEqual([status?.status, status?.reason], ['failed', 'HTTP 403 Forbidden']);
    const [device] = (await hanako.json('/push/devices', 200)).devices as { lastPush: Json }[];
    assert.deepEqual([device?.lastPush.status, device?.lastPush.reason], ['failed', 'HTTP 403 Forbidden']);
    await hanako.json(`/push/devices/${refused.id}`, 204, { method: 'DELETE' });
  });

  it('shortens a long body to fit a push message; the inbox keeps it whole', async () => {
    const device = await t.device(hanako, 'long');
    const body = 'お知らせ'.repeat(1000);
    const { id } = await notify(hanako, { body });
    const [message] = await t.push.waitFor(device.subscription.endpoint, 1);
    const payload = JSON.parse(message?.text ?? '') as Json;
    assert.equal(payload.truncated, true);
    assert.ok(Buffer.byteLength(message?.text ?? '') <= 3800);
    assert.ok(body.startsWith(String(payload.body).slice(0, -1)));
    const { notifications } = await hanako.json('?limit=1', 200);
    assert.deepEqual([(notifications as Json[])[0]?.id, (notifications as Json[])[0]?.body], [id, body]);
    await hanako.json(`/push/devices/${device.id}`, 204, { method: 'DELETE' });
  });

  it('refuses a notification it could not show', async () => {
    const cases: [Partial<Notify>, RegExp][] = [
      [{ accountId: 'hanako' }, /accountId/],
      [{ kind: 'Letter!' }, /kind/],
      [{ title: '' }, /title/],
      [{ url: 'http://example.com/' }, /url/],
      [{ url: '//evil.example/' }, /url/],
      [{ ttlSeconds: -1 }, /ttlSeconds/],
      [{ idempotencyKey: '' }, /idempotencyKey/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(
        notify(hanako, input),
        (e: Error) => e instanceof BadRequest && message.test(e.message),
      );
    }
  });
});
