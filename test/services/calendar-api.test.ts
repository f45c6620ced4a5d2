/**
 * Myカレンダー through its API: staff import 金沢市's real 5374 files (area_days.csv in Shift_JIS, as
 * cities publish it), bad files are refused whole with every problem named, staff move a collection
 * day, and a resident picks their area, sees their garbage days and subscribes to a private
 * iCalendar feed that an independent parser (ical.js) reads, with the evening-before alarm.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import ICAL from 'ical.js';
import { notifyResident } from '../../src/delivery/index.ts';
import { addTenant } from '../../src/platform/index.ts';
import {
  addResident,
  addStaffMember,
  Browser,
  consoleToken,
  type IdentityRig,
  myPageToken,
  startIdentityRig,
} from '../identity/rig.ts';

const KANAZAWA = '172014';
type Json = Record<string, unknown>;
const fixture = (file: string) =>
  fs.readFileSync(new URL(`../fixtures/5374-kanazawa/${file}`, import.meta.url));

function upload(files: Record<string, Buffer | string>): FormData {
  const form = new FormData();
  for (const [name, content] of Object.entries(files)) {
    form.append('file', new Blob([content], { type: 'text/csv' }), name);
  }
  return form;
}

const problems = async (response: Response) =>
  ((await response.json()) as { invalidParams: { name: string; reason: string }[] }).invalidParams.map(
    (p) => `${p.name}: ${p.reason}`,
  );

describe('Myカレンダー: garbage days from 5374 files, day changes, and a private iCalendar feed', () => {
  let rig: IdentityRig;
  let editor: string;
  let viewer: string;
  let resident: string;
  let residentId: string;
  const staffApi = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${rig.baseUrl}/api/v1/staff/tenants/${KANAZAWA}/garbage${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
    });
  const me = (path: string, init: RequestInit = {}) =>
    fetch(`${rig.baseUrl}/api/v1/me/calendar${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${resident}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers ?? {}),
      },
    });

  before(async () => {
    rig = await startIdentityRig();
    await addTenant(rig.testDb.db, { code: '170003', name: '石川県', nameEn: 'Ishikawa Prefecture' });
    await addTenant(rig.testDb.db, { code: KANAZAWA, name: '金沢市', nameEn: 'Kanazawa City' });
    editor = await consoleToken(
      rig,
      KANAZAWA,
      await addStaffMember(rig, [[KANAZAWA, 'editor']], '金沢 職員'),
    );
    viewer = await consoleToken(
      rig,
      KANAZAWA,
      await addStaffMember(rig, [[KANAZAWA, 'viewer']], '金沢 閲覧'),
    );
    const who = await addResident(rig, '金沢 太郎');
    residentId = who.id;
    resident = await myPageToken(rig, new Browser(), who.email);
  });
  after(() => rig?.close());

  it('refuses staff without the calendar role, and residents, before reading any file', async () => {
    const form = () => upload({ 'area_days.csv': fixture('area_days.csv') });
    assert.equal((await staffApi(viewer, '/imports', { method: 'POST', body: form() })).status, 403);
    assert.equal((await staffApi(resident, '/imports', { method: 'POST', body: form() })).status, 403);
    assert.equal((await fetch(`${rig.baseUrl}/api/v1/staff/tenants/${KANAZAWA}/garbage`)).status, 401);
  });

  it('refuses a file with a wrong day notation whole, naming each bad cell, and keeps nothing', async () => {
    const bad = fixture('area_days.csv')
      .toString('utf8')
      .replace('浅野,東部管理センター,月 木,', '浅野,東部管理センター,月 毎週木,')
      .replace('朝日,東部管理センター,火 金,月3,', '朝日,東部管理センター,火 金,月6,');
    const response = await staffApi(editor, '/imports', {
      method: 'POST',
      body: upload({ 'area_days.csv': bad }),
    });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const named = await problems(response);
    assert.equal(named.length, 2, named.join('\n'));
    assert.match(named[0] as string, /^area_days\.csv, line 2, 燃やすごみ: "毎週木" is not a day/);
    assert.match(named[1] as string, /^area_days\.csv, line 4, 燃やさないごみ: "月6" is not a day/);
    assert.equal((await staffApi(editor, '')).status, 404, 'nothing was imported');
  });

  it('says exactly where a file is neither UTF-8 nor Shift_JIS', async () => {
    const broken = Buffer.concat([
      Buffer.from('地名,センター,燃やすごみ\n浅野,東部,月\n'),
      Buffer.from([0x81, 0x20, 0xff]),
      Buffer.from('\n'),
    ]);
    const response = await staffApi(editor, '/imports', {
      method: 'POST',
      body: upload({ 'area_days.csv': broken }),
    });
    assert.equal(response.status, 400);
    const [problem] = await problems(response);
    assert.match(problem as string, /^area_days\.csv, line 3: byte 0x81 at offset \d+ is not UTF-8/);
  });

  it('checks the files against each other: a centre missing from center.csv is named', async () => {
    const centres = fixture('center.csv')
      .toString('utf8')
      .replace(/東部管理センター.*\n?/, '');
    const response = await staffApi(editor, '/imports', {
      method: 'POST',
      body: upload({ 'area_days.csv': fixture('area_days.csv'), 'center.csv': centres }),
    });
    assert.equal(response.status, 400);
    assert.ok(
      (await problems(response)).some((p) =>
        /line 2, センター: 東部管理センター is not in center\.csv/.test(p),
      ),
    );
  });

  it('refuses what is not a multipart upload of 5374 files', async () => {
    const json = await staffApi(editor, '/imports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(json.status, 415);
    const other = await staffApi(editor, '/imports', { method: 'POST', body: upload({ 'gomi.xlsx': 'x' }) });
    assert.equal(other.status, 400);
    assert.match((await problems(other)).join('\n'), /gomi\.xlsx: is not one of area_days\.csv/);
  });

  it('imports area_days.csv in Shift_JIS with center.csv and description.csv', async () => {
    const response = await staffApi(editor, '/imports', {
      method: 'POST',
      body: upload({
        'area_days.csv': fixture('area_days.sjis.csv'),
        'center.csv': fixture('center.csv'),
        'description.csv': fixture('description.csv'),
      }),
    });
    assert.equal(response.status, 201, JSON.stringify(await response.clone().json()));
    const body = (await response.json()) as { areas: number; files: { name: string; encoding: string }[] };
    assert.equal(body.areas, 20);
    assert.equal(body.files.find((f) => f.name === 'area_days.csv')?.encoding, 'shift_jis');
    const schedule = (await (await staffApi(editor, '')).json()) as {
      areas: { name: string; centre: string }[];
    };
    assert.deepEqual(schedule.areas[0], { name: '浅野', centre: '東部管理センター' });
  });

  it('lets staff move a collection day and refuses a change for an area the schedule does not have', async () => {
    const unknown = await staffApi(editor, '/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: '2026-12-03', area: '兼六園', category: '燃やすごみ' }),
    });
    assert.equal(unknown.status, 400);
    assert.match((await problems(unknown)).join('\n'), /body\/area: 兼六園 is not an area/);
    const notADay = await staffApi(editor, '/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: '2026-02-30' }),
    });
    assert.equal(notADay.status, 400);
    assert.match((await problems(notADay)).join('\n'), /body\/date: 2026-02-30 is not a date/);
    assert.equal((await staffApi(editor, '/areas/浅野/days?from=2026-02-30')).status, 400);
    const moved = await staffApi(editor, '/exceptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        date: '2026-12-03',
        moveTo: '2026-12-05',
        category: '燃やすごみ',
        reason: '施設点検',
      }),
    });
    assert.equal(moved.status, 201);
    const preview = (await (
      await staffApi(editor, '/areas/浅野/days?from=2026-12-01&to=2026-12-10')
    ).json()) as {
      days: { date: string; category: string }[];
    };
    assert.deepEqual(
      preview.days.filter((d) => d.category === '燃やすごみ').map((d) => d.date),
      ['2026-12-05', '2026-12-07', '2026-12-10'],
    );
    assert.equal((await staffApi(editor, '/areas/兼六園/days')).status, 404);
  });

  it('shows a resident the days of the area they chose, after refusing an area the city does not list', async () => {
    const areas = (await (await fetch(`${rig.baseUrl}/api/v1/tenants/${KANAZAWA}/garbage/areas`)).json()) as {
      areas: string[];
    };
    assert.ok(areas.areas.includes('浅野川'));
    const wrong = await me(`/settings?tenant=${KANAZAWA}`, {
      method: 'PUT',
      body: JSON.stringify({ garbageArea: '兼六園', eveningReminder: false }),
    });
    assert.equal(wrong.status, 400);
    const before = (await (await me(`?tenant=${KANAZAWA}&from=2026-12-01&to=2026-12-31`)).json()) as Json;
    assert.deepEqual(before.garbageDays, [], 'no area chosen yet: no days');
    const chosen = await me(`/settings?tenant=${KANAZAWA}`, {
      method: 'PUT',
      body: JSON.stringify({ garbageArea: '浅野川', eveningReminder: true }),
    });
    assert.equal(chosen.status, 200);
    const december = (await (await me(`?tenant=${KANAZAWA}&from=2026-12-01&to=2026-12-31`)).json()) as {
      garbageDays: { date: string; category: string }[];
    };
    // 浅野川: 燃やすごみ 月 木 (3 Dec moved to 5 Dec), 燃やさないごみ 水4, 資源 火1 火3, びん 水2.
    const of = (category: string) =>
      december.garbageDays.filter((d) => d.category === category).map((d) => d.date.slice(8));
    assert.deepEqual(of('燃やすごみ'), ['05', '07', '10', '14', '17', '21', '24', '28', '31']);
    assert.deepEqual(of('燃やさないごみ'), ['23']);
    assert.deepEqual(of('資源'), ['01', '15']);
    assert.deepEqual(of('びん'), ['09']);
    const reversed = await me(`?tenant=${KANAZAWA}&from=2026-12-31&to=2026-12-01`);
    assert.equal(reversed.status, 400);
  });

  it('serves a private iCalendar feed that a parser reads, with an alarm at 19:00 the evening before', async () => {
    const created = await me(`/feed?tenant=${KANAZAWA}`, { method: 'POST' });
    assert.equal(created.status, 201);
    const { url, webcalUrl } = (await created.json()) as { url: string; webcalUrl: string };
    assert.match(webcalUrl, /^webcal:\/\//);
    const feed = await fetch(url);
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get('content-type') ?? '', /^text\/calendar/);
    const calendar = new ICAL.Component(ICAL.parse(await feed.text()));
    const events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    assert.ok(events.length > 100, `a year of days, got ${events.length}`);
    const uids = new Set(events.map((e) => e.uid));
    assert.equal(uids.size, events.length, 'each event has its own UID');
    const moved = events.find(
      (e) => e.startDate.toString() === '2026-12-05' && e.summary === '燃やすごみの日',
    );
    assert.ok(moved, 'the moved day is in the feed');
    assert.equal(moved.startDate.isDate, true, 'an all-day event');
    assert.equal(
      events.some((e) => e.startDate.toString() === '2026-12-03' && e.summary === '燃やすごみの日'),
      false,
    );
    const alarm = moved.component.getFirstSubcomponent('valarm');
    assert.equal(alarm?.getFirstPropertyValue('trigger')?.toString(), '-PT5H');

    // A new address ends the old one; stopping ends the new one.
    const again = (await (await me(`/feed?tenant=${KANAZAWA}`, { method: 'POST' })).json()) as {
      url: string;
    };
    assert.equal((await fetch(url)).status, 404);
    assert.equal((await fetch(again.url)).status, 200);
    assert.equal((await me(`/feed?tenant=${KANAZAWA}`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(again.url)).status, 404);
    const guessed = url.replace(/[A-Za-z0-9_-]{43}\.ics$/, `${'A'.repeat(43)}.ics`);
    assert.equal((await fetch(guessed)).status, 404);
  });

  it('forgets my area, reminder, feed and notices when I ask My Page to erase my data', async () => {
    const { url } = (await (await me(`/feed?tenant=${KANAZAWA}`, { method: 'POST' })).json()) as {
      url: string;
    };
    await rig.testDb.db.withTenant(KANAZAWA, (tx) =>
      notifyResident(tx, {
        tenant: KANAZAWA,
        accountId: residentId,
        kind: 'calendar.garbage',
        title: '明日は燃やすごみの日です',
        body: '浅野川',
        idempotencyKey: 'erase-test',
      }),
    );
    const erased = await fetch(`${rig.baseUrl}/api/v1/me/erasure`, {
      method: 'POST',
      headers: { authorization: `Bearer ${resident}` },
    });
    assert.equal(erased.status, 200, await erased.clone().text());
    const kanazawa = ((await erased.json()) as { municipalities: Json[] }).municipalities.find(
      (m) => m.municipality === KANAZAWA,
    );
    assert.equal(kanazawa?.notifications, 1);
    assert.equal(
      kanazawa?.calendarChoices,
      4,
      'the settings and the three feed addresses made, stopped ones too',
    );
    const settings = (await (await me(`/settings?tenant=${KANAZAWA}`)).json()) as Json;
    assert.deepEqual(settings, {
      municipality: KANAZAWA,
      garbageArea: null,
      eveningReminder: false,
      feed: false,
    });
    assert.equal((await fetch(url)).status, 404);
    const inbox = await rig.testDb.db.withTenant(KANAZAWA, (tx) =>
      tx.query('select 1 from delivery.notifications where account_id = $1', [residentId]),
    );
    assert.equal(inbox.rows.length, 0);
  });
});
