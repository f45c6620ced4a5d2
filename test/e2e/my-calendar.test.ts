/**
 * Myカレンダー in real Chromium at a phone's size: staff have imported the demo's 5374 files for
 * 仙台市; a resident logs in to the portal, chooses their area and the evening reminder, sees their
 * garbage days in large type, adds the calendar to their phone (the private feed answers), and stops
 * it again. Checked with axe-core and at 360 px wide; screenshots under test-results/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { importGarbageSchedule } from '../../src/services/calendar/index.ts';
import {
  addResident,
  addStaffMember,
  type IdentityRig,
  PASSWORD,
  startIdentityRig,
} from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';
import { assertFitsPhone, logInToPortal } from './phone-pages.ts';

const SENDAI = '041009';
const AREA = '青葉区 上杉（デモ）';
const demoFile = (name: string) =>
  fs.readFileSync(new URL(`../../src/demo/data/garbage-sendai/${name}`, import.meta.url));

describe(
  'Myカレンダー in Chromium: choosing my area, my garbage days, and my calendar feed',
  browserSuite,
  () => {
    let rig: IdentityRig;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    before(async () => {
      rig = await startIdentityRig();
      const staff = await addStaffMember(rig, [[SENDAI, 'editor']]);
      await importGarbageSchedule(rig.testDb.db, SENDAI, staff.id, {
        'area_days.csv': demoFile('area_days.csv'),
        'center.csv': demoFile('center.csv'),
        'description.csv': demoFile('description.csv'),
      });
      const resident = await addResident(rig, '上杉 ちよ');
      browser = await launchChromium();
      page = await (await browser.newContext(phone)).newPage();
      page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
      await logInToPortal(page, rig.baseUrl, resident.email, PASSWORD);
    });

    after(async () => {
      await browser?.close();
      await rig?.close();
    });

    it('asks for my area, then shows the garbage days of the next two weeks with their weekday', async () => {
      const panel = page.locator('.my-calendar');
      await panel.getByLabel('お住まいの地区').waitFor();
      await screenshot(page, 'my-calendar-choose-ja');
      await assertAccessible(page, 'my calendar, choosing an area (ja)');
      await panel.getByLabel('お住まいの地区').selectOption(AREA);
      await panel.locator('label.check', { hasText: '前の日の夕方' }).click();
      await panel.getByRole('button', { name: 'この内容で保存する' }).click();
      await panel.getByText(`${AREA} のごみの日（これから2週間）`).waitFor();
      const days = await panel.locator('.garbage-day').allTextContents();
      assert.ok(days.length >= 5, `two weeks of days, got ${days.length}`);
      // 上杉: 家庭ごみ on Tuesdays and Fridays, プラスチック資源 on Thursdays.
      const household = days.filter((d) => d.includes('家庭ごみ'));
      assert.ok(household.length >= 3);
      for (const day of household) assert.match(day, /^\d+月\d+日\((火|金)\)家庭ごみ/);
      for (const day of days.filter((d) => d.includes('プラスチック資源'))) assert.match(day, /\(木\)/);
      assert.match((await panel.textContent()) ?? '', /収集日の前の日の夕方にお知らせします。/);
      await screenshot(page, 'my-calendar-days-ja');
      await assertAccessible(page, 'my calendar, garbage days (ja)');
      await page.setViewportSize({ width: 360, height: 780 });
      await assertFitsPhone(page);
      await page.setViewportSize({ width: 390, height: 844 });
    });

    it('adds the calendar to my phone through a private address, and stops it', async () => {
      const panel = page.locator('.my-calendar');
      await panel.getByRole('button', { name: 'カレンダーに登録する' }).click();
      const address = panel.getByLabel('登録用のアドレス');
      await address.waitFor();
      const url = await address.inputValue();
      assert.match(url, new RegExp(`^${rig.baseUrl}/calendar/feeds/${SENDAI}/[A-Za-z0-9_-]{43}\\.ics$`));
      const webcal = await panel
        .getByRole('link', { name: 'iPhone・スマートフォンのカレンダーで開く' })
        .getAttribute('href');
      assert.equal(webcal, url.replace(/^http:/, 'webcal:'));
      const google = await panel.getByRole('link', { name: 'Googleカレンダーに追加' }).getAttribute('href');
      assert.equal(google, `https://calendar.google.com/calendar/render?cid=${encodeURIComponent(webcal)}`);
      const feed = await fetch(url);
      assert.equal(feed.status, 200);
      const text = await feed.text();
      assert.match(text, /SUMMARY:家庭ごみの日/);
      assert.match(text, /TRIGGER:-PT5H/);
      await screenshot(page, 'my-calendar-feed-ja');
      await assertAccessible(page, 'my calendar, feed address (ja)');

      await panel.getByRole('button', { name: 'カレンダーへの登録をやめる' }).click();
      await panel.getByText('カレンダーへの登録をやめました。').waitFor();
      assert.equal((await fetch(url)).status, 404);
      assert.deepEqual(problems, []);
    });
  },
);
