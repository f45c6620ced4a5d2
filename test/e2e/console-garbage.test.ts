/**
 * ごみ収集日 in the staff console, in real Chromium at a phone's size: an editor of 金沢市 uploads a
 * file with a wrong day notation and reads every problem by line and column, then imports the city's
 * real 5374 files (area_days.csv in Shift_JIS), previews an area, and moves a collection day, which
 * the preview then shows. Screenshots under test-results/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { addTenant } from '../../src/platform/index.ts';
import { addStaffMember, type IdentityRig, PASSWORD, startIdentityRig } from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';
import { assertFitsPhone } from './phone-pages.ts';

const KANAZAWA = '172014';
const fixtures = new URL('../fixtures/5374-kanazawa/', import.meta.url);

describe('ごみ収集日 in the staff console: import, problems, preview and day changes', browserSuite, () => {
  let rig: IdentityRig;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const pageErrors: string[] = [];

  /** The upload as staff pick it: files with their own names. */
  const files = (sources: Record<string, Buffer | string>) =>
    Object.entries(sources).map(([name, content]) => {
      const file = path.join(dir, `${Object.keys(sources).indexOf(name)}`, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      return file;
    });
  const fixture = (name: string) => fs.readFileSync(new URL(name, fixtures));

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-5374-'));
    rig = await startIdentityRig();
    await addTenant(rig.testDb.db, { code: '170003', name: '石川県', nameEn: 'Ishikawa Prefecture' });
    await addTenant(rig.testDb.db, { code: KANAZAWA, name: '金沢市', nameEn: 'Kanazawa City' });
    const staff = await addStaffMember(rig, [[KANAZAWA, 'editor']], '金沢 職員');
    browser = await launchChromium();
    page = await (await browser.newContext(phone)).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${rig.baseUrl}/console/`);
    await page.getByLabel('自治体').selectOption(KANAZAWA);
    await page.getByRole('button', { name: 'サインインする' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByLabel('メールアドレス').fill(staff.email);
    await page.getByLabel('パスワード').fill(PASSWORD);
    await page.locator('button.primary[type="submit"]').first().click();
    await page.locator('#code').fill(await generate({ secret: staff.secret }));
    await page.locator('button.primary[type="submit"]').click();
    await page.waitForURL(`${rig.baseUrl}/console/`);
    await page.getByRole('heading', { name: 'ごみ収集日' }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists every problem of a file with a wrong day notation, and imports nothing', async () => {
    await page.getByText('まだ取り込まれていません。').waitFor();
    const bad = fixture('area_days.csv')
      .toString('utf8')
      .replace('浅野,東部管理センター,月 木,', '浅野,東部管理センター,月 毎週木,');
    await page.getByLabel('5374形式のファイル').setInputFiles(files({ 'area_days.csv': bad }));
    await page.getByRole('button', { name: '取り込む' }).click();
    const alert = page.locator('.panel--error');
    await alert.waitFor();
    assert.match(
      (await alert.textContent()) ?? '',
      /area_days\.csv, line 2, 燃やすごみ: "毎週木" is not a day/,
    );
    assert.equal(await page.getByText('まだ取り込まれていません。').count(), 1);
    await screenshot(page, 'console-garbage-problems-ja');
    await assertAccessible(page, 'console garbage problems');
  });

  it('imports the real files in Shift_JIS, previews an area and moves a collection day', async () => {
    await page.getByLabel('5374形式のファイル').setInputFiles(
      files({
        'area_days.csv': fixture('area_days.sjis.csv'),
        'center.csv': fixture('center.csv'),
        'description.csv': fixture('description.csv'),
      }),
    );
    await page.getByRole('button', { name: '取り込む' }).click();
    await page.getByRole('status').filter({ hasText: '20地区の収集日を取り込みました。' }).waitFor();
    assert.match(
      (await page.locator('.console__garbage').textContent()) ?? '',
      /area_days\.csv（Shift_JIS）/,
    );

    await page.getByLabel('地区の収集日を確かめる（4週間）').selectOption('浅野');
    const preview = page.getByRole('list', { name: '浅野の収集日' });
    await preview.waitFor();
    const days = await preview.locator('.garbage-day').allTextContents();
    const household = days.filter((d) => d.endsWith('燃やすごみ')).map((d) => d.slice(0, 10));
    assert.ok(household.length >= 7, `four weeks of 燃やすごみ, got ${household.length}`);
    for (const date of household) assert.ok([1, 4].includes(new Date(`${date}T00:00:00Z`).getUTCDay()), date);

    const first = household[0] as string;
    const next = new Date(Date.parse(`${first}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('変更する収集日').fill(first);
    await page.getByLabel('振り替える日（任意）').fill(next);
    await page.locator('select[name="category"]').selectOption('燃やすごみ');
    await page.getByLabel('理由（住民に表示されます）').fill('施設点検のため');
    await page.getByRole('button', { name: '変更を登録する' }).click();
    await page.getByRole('status').filter({ hasText: '収集日の変更を登録しました。' }).waitFor();
    await page
      .locator('.day-changes li')
      .filter({ hasText: `${first}の収集を${next}に変更` })
      .waitFor();
    await preview
      .locator('.garbage-day')
      .filter({ hasText: `${next}燃やすごみ` })
      .waitFor();
    const after = await preview.locator('.garbage-day').allTextContents();
    assert.ok(after.includes(`${next}燃やすごみ`), 'the preview shows the new day');
    assert.ok(!after.includes(`${first}燃やすごみ`), 'and not the old one');
    await screenshot(page, 'console-garbage-ja');
    await assertAccessible(page, 'console garbage');
    await page.setViewportSize({ width: 360, height: 780 });
    await assertFitsPhone(page);
    assert.deepEqual(pageErrors, []);
  });
});
