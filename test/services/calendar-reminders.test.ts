/**
 * The evening reminder: the evening before a collection day, each resident who turned the reminder
 * on gets one notification naming tomorrow's categories; nobody else does, a moved day moves the
 * reminder, and running the evening twice (two workers, a retry) reminds nobody twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { addAccount } from '../../src/identity/index.ts';
import { addTenant } from '../../src/platform/index.ts';
import { chooseGarbageArea, importGarbageSchedule } from '../../src/services/calendar/index.ts';
import { eveningAfter, remindTenant } from '../../src/services/calendar/reminders.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const KANAZAWA = '172014';
const fixture = (name: string) =>
  fs.readFileSync(new URL(`../fixtures/5374-kanazawa/${name}`, import.meta.url));

describe(`evening reminders of garbage days (${backend})`, () => {
  let t: TestDb;
  let asano: string;
  let quiet: string;
  let other: string;
  const inbox = (accountId: string) =>
    t.db.withTenant(KANAZAWA, async (tx) => {
      const { rows } = await tx.query<{ title: string; body: string }>(
        'select title, body from delivery.notifications where account_id = $1 order by created_at',
        [accountId],
      );
      return rows;
    });
  const resident = async (name: string) =>
    (
      await addAccount(t.db, {
        kind: 'resident',
        email: `${name}@example.jp`,
        displayName: name,
        password: 'x'.repeat(12),
        homeTenantCode: KANAZAWA,
      })
    ).id;

  before(async () => {
    t = await createTestDb();
    await addTenant(t.db, { code: '170003', name: '石川県', nameEn: 'Ishikawa Prefecture' });
    await addTenant(t.db, { code: KANAZAWA, name: '金沢市', nameEn: 'Kanazawa City' });
    const staff = (
      await addAccount(t.db, {
        kind: 'staff',
        email: 'staff@kanazawa.example.jp',
        displayName: '職員',
        password: 'x'.repeat(12),
      })
    ).id;
    await importGarbageSchedule(t.db, KANAZAWA, staff, {
      'area_days.csv': fixture('area_days.csv'),
      'description.csv': fixture('description.csv'),
    });
    [asano, quiet, other] = [await resident('asano'), await resident('quiet'), await resident('asahi')];
    // 浅野: 燃やすごみ 月 木, 燃やさないごみ 水2, 資源 火1 火3, びん 水4.
    assert.ok(await chooseGarbageArea(t.db, KANAZAWA, asano, { garbageArea: '浅野', eveningReminder: true }));
    assert.ok(
      await chooseGarbageArea(t.db, KANAZAWA, quiet, { garbageArea: '浅野', eveningReminder: false }),
    );
    // 朝日: 燃やすごみ 火 金.
    assert.ok(await chooseGarbageArea(t.db, KANAZAWA, other, { garbageArea: '朝日', eveningReminder: true }));
  });
  after(() => t?.close());

  it('runs at 18:00 in Japan', () => {
    assert.equal(eveningAfter(Date.parse('2026-12-02T08:59:00Z')).toISOString(), '2026-12-02T09:00:00.000Z');
    assert.equal(eveningAfter(Date.parse('2026-12-02T09:00:01Z')).toISOString(), '2026-12-03T09:00:00.000Z');
  });

  it('reminds the residents with the reminder on whose area has a collection tomorrow, once', async () => {
    // Thursday 3 December 2026: 燃やすごみ in 浅野, nothing in 朝日.
    assert.equal(await remindTenant(t.db, KANAZAWA, '2026-12-03'), 1);
    assert.equal(await remindTenant(t.db, KANAZAWA, '2026-12-03'), 1, 'a second run finds the same resident');
    const [item, ...more] = await inbox(asano);
    assert.equal(more.length, 0, 'but notifies them once');
    assert.equal(item?.title, '明日は燃やすごみの日です');
    assert.match(item?.body ?? '', /^浅野（12月03日）/);
    assert.deepEqual(await inbox(quiet), [], 'the reminder off: nothing');
    assert.deepEqual(await inbox(other), [], 'no collection in 朝日 that day');
  });

  it('follows a day staff moved', async () => {
    // Wednesday 9 December is 浅野's 2nd Wednesday (燃やさないごみ); staff move it to the 10th.
    await t.db.withTenant(KANAZAWA, (tx) =>
      tx.query(
        `insert into calendar.garbage_exceptions (tenant_id, day, move_to, category, created_by)
         values ($1, '2026-12-09', '2026-12-11', '燃やさないごみ', $2)`,
        [KANAZAWA, asano],
      ),
    );
    assert.equal(await remindTenant(t.db, KANAZAWA, '2026-12-09'), 0);
    assert.equal(await remindTenant(t.db, KANAZAWA, '2026-12-11'), 2, '浅野 (moved day) and 朝日 (Friday)');
    const titles = (await inbox(asano)).map((i) => i.title);
    assert.deepEqual(titles, ['明日は燃やすごみの日です', '明日は燃やさないごみの日です']);
  });
});
