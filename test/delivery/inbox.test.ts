/**
 * The resident's inbox over the municipalities that wrote to them: newest first in pages, the
 * unread count, one or all marked read; another resident's item is not there for them, and each
 * municipality's items stay under its row-level security.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notifyResident } from '../../src/delivery/index.ts';
import { backend } from '../helpers/db.ts';
import { type DeliveryRig, type Json, MIYAGI, type Resident, SENDAI, startDeliveryRig } from './rig.ts';

describe(`the notification inbox (${backend})`, () => {
  let t: DeliveryRig;
  let hanako: Resident;
  let taro: Resident;
  /** Hanako's items, oldest first. */
  const sent: { id: string; tenant: string; title: string }[] = [];

  before(async () => {
    t = await startDeliveryRig();
    hanako = await t.resident();
    taro = await t.resident();
    // The city and the prefecture both write to her, in turns.
    for (const [n, tenant] of [SENDAI, MIYAGI, SENDAI, SENDAI, MIYAGI].entries()) {
      const title = `お知らせ ${n + 1}`;
      const { id } = await t.rig.testDb.db.withTenant(tenant, (tx) =>
        notifyResident(tx, {
          tenant,
          accountId: hanako.id,
          kind: tenant === MIYAGI ? 'disaster.alert' : 'epost.letter',
          title,
          body: `本文 ${n + 1}`,
          idempotencyKey: `inbox-${n}`,
        }),
      );
      sent.push({ id, tenant, title });
    }
    await t.rig.testDb.db.withTenant(SENDAI, (tx) =>
      notifyResident(tx, {
        tenant: SENDAI,
        accountId: taro.id,
        kind: 'epost.letter',
        title: '太郎さんへ',
        body: '',
        idempotencyKey: 'taro-1',
      }),
    );
  });
  after(() => t.close());

  it('lists the items of every municipality newest first, in pages', async () => {
    const titles: string[] = [];
    let next: string | null = null;
    const pages: number[] = [];
    do {
      const page: Json = await hanako.json(`?limit=2${next ? `&before=${next}` : ''}`, 200);
      const items = page.notifications as Json[];
      pages.push(items.length);
      titles.push(...items.map((n) => n.title as string));
      next = page.next as string | null;
    } while (next);
    assert.deepEqual(pages, [2, 2, 1]);
    assert.deepEqual(
      titles,
      [...sent].reverse().map((s) => s.title),
    );

    const { notifications } = await hanako.json('?limit=1', 200);
    const [newest] = notifications as Json[];
    assert.deepEqual(
      { ...newest, createdAt: undefined },
      {
        id: sent[4]?.id,
        kind: 'disaster.alert',
        title: 'お知らせ 5',
        body: '本文 5',
        url: null,
        municipality: { code: MIYAGI, name: '宮城県', nameEn: 'Miyagi Prefecture' },
        createdAt: undefined,
        readAt: null,
      },
    );
    const bad = await hanako.call('?before=abc');
    assert.equal(bad.status, 400);
  });

  it('counts unread items and marks one read', async () => {
    assert.deepEqual(await hanako.json('/unread-count', 200), { unread: 5 });
    const one = sent[2]?.id as string;
    await hanako.json(`/${one}/read`, 204, { method: 'POST' });
    await hanako.json(`/${one}/read`, 204, { method: 'POST' });
    assert.deepEqual(await hanako.json('/unread-count', 200), { unread: 4 });
    const items = (await hanako.json('', 200)).notifications as Json[];
    assert.ok(items.find((n) => n.id === one)?.readAt);
    assert.equal(items.filter((n) => n.readAt === null).length, 4);
  });

  it("answers 404 for another resident's item and leaves it unread", async () => {
    const theirs = ((await taro.json('', 200)).notifications as Json[])[0]?.id as string;
    const response = await hanako.call(`/${theirs}/read`, { method: 'POST' });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as Json).type, 'urn:machi:problem:not-found');
    assert.equal((await hanako.call(`/${crypto.randomUUID()}/read`, { method: 'POST' })).status, 404);
    assert.deepEqual(await taro.json('/unread-count', 200), { unread: 1 });
    const hers = ((await hanako.json('', 200)).notifications as Json[]).map((n) => n.id);
    assert.ok(!hers.includes(theirs));
  });

  it('marks every item read at once', async () => {
    assert.deepEqual(await hanako.json('/read-all', 200, { method: 'POST' }), { marked: 4 });
    assert.deepEqual(await hanako.json('/unread-count', 200), { unread: 0 });
    assert.deepEqual(await taro.json('/unread-count', 200), { unread: 1 });
  });

  it("keeps each municipality's items to itself under row-level security", async () => {
    const seen = await t.rig.testDb.db.withTenant(MIYAGI, async (tx) => {
      const items = await tx.query<{ tenant_id: string }>('select tenant_id from delivery.notifications');
      const inboxes = await tx.query('select 1 from delivery.inboxes').catch((e: Error) => e);
      return { tenants: [...new Set(items.rows.map((r) => r.tenant_id))], inboxes };
    });
    assert.deepEqual(seen.tenants, [MIYAGI]);
    assert.match(
      String(seen.inboxes),
      /permission denied/,
      'a tenant cannot read which municipalities wrote to whom',
    );
    await assert.rejects(
      t.rig.testDb.db.withTenant(MIYAGI, (tx) =>
        notifyResident(tx, {
          tenant: SENDAI,
          accountId: hanako.id,
          kind: 'epost.letter',
          title: '偽物',
          body: '',
          idempotencyKey: 'forged',
        }),
      ),
      /row-level security/,
    );
    assert.equal((await hanako.call('')).status, 200);
    assert.equal((await fetch(`${t.rig.baseUrl}/api/v1/me/notifications`)).status, 401);
  });
});
