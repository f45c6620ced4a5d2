/**
 * /account/authenticator in real Chromium at a phone's size: the resident enters their password,
 * sees the QR code (an inline SVG, whole on the screen) and the seed in groups, types the app's
 * code (made here with otplib from the seed the page shows) and is told it is set up; and the list
 * of passkeys, each with its delete button. No serious accessibility violations; screenshots are
 * saved under test-results/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { insertPasskey } from '../../src/identity/login/passkey-store.ts';
import { hasTotp } from '../../src/identity/totp.ts';
import { addResident, type IdentityRig, PASSWORD, startIdentityRig } from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';

describe('authenticator and passkey pages at a phone size', browserSuite, () => {
  let rig: IdentityRig;
  let browser: Browser;
  const consoleErrors: string[] = [];

  before(async () => {
    rig = await startIdentityRig();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  async function heading(page: Page, name: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ state: 'visible' });
  }

  /** No sideways scrolling, and every field, button and link at least 44px high and on the screen. */
  async function assertFitsPhone(page: Page): Promise<void> {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= 390, `page scrolls sideways (${width}px)`);
    for (const target of await page.locator('main button, main input:not([type="hidden"]), main a').all()) {
      const box = await target.boundingBox();
      const name = (await target.getAttribute('id')) ?? (await target.textContent());
      assert.ok(box && box.height >= 44, `tap target "${name}" is ${box?.height}px high`);
      assert.ok(box.x >= 0 && box.x + box.width <= 390, `"${name}" sticks out of the screen`);
    }
  }

  it('shows the QR code and seed on a phone and sets the app up with its code', async () => {
    const resident = await addResident(rig);
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    page.on('console', (message) => {
      // The wrong answers are asserted by status elsewhere; there is no favicon.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        consoleErrors.push(message.text());
      }
    });
    const response = await page.goto(`${rig.baseUrl}/account/authenticator`);
    assert.equal(response?.status(), 200);
    await heading(page, '認証アプリ（二段階認証）');
    await assertFitsPhone(page);
    await assertAccessible(page, 'the authenticator page');
    await screenshot(page, 'account-authenticator-ja');

    await page.getByLabel('メールアドレス', { exact: true }).fill(resident.email);
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: '次へ', exact: true }).click();
    await heading(page, '認証アプリの設定');
    const qr = page.getByRole('img', { name: '認証アプリで読み取るQRコード' });
    await qr.waitFor({ state: 'visible' });
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 200 && box.height >= 200, `the QR code is ${box?.width}px wide`);
    assert.ok(box.x >= 0 && box.x + box.width <= 390, 'the QR code is whole on the screen');
    const grouped = (await page.locator('.secret code').textContent()) ?? '';
    assert.match(grouped, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    assert.equal(new URL(page.url()).search, '?lang=ja', 'nothing but the language in the URL');
    await assertFitsPhone(page);
    await assertAccessible(page, 'the enrolment page');
    await screenshot(page, 'account-authenticator-qr-ja');

    const code = await generate({ secret: grouped.replaceAll(' ', '') });
    await page.getByLabel('認証アプリの6桁の確認コード', { exact: true }).fill(code);
    await page.getByRole('button', { name: '設定を完了する', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '認証アプリを設定しました' }).waitFor();
    await assertAccessible(page, 'the answer');
    await screenshot(page, 'account-authenticator-done-ja');
    assert.equal(await hasTotp(rig.testDb.db, resident.id), true);
    assert.deepEqual(consoleErrors, [], 'no errors on the console (a CSP violation, say)');
    await context.close();
  });

  it('lists the passkeys on a phone and deletes one with its own button', async () => {
    const resident = await addResident(rig);
    for (const name of ['わたしのiPhone', '仕事用のノートパソコン']) {
      await insertPasskey(rig.testDb.db, {
        credentialId: randomBytes(16).toString('base64url'),
        accountId: resident.id,
        publicKey: randomBytes(77),
        counter: 0,
        transports: ['internal'],
        backedUp: name.includes('iPhone'),
        name,
      });
    }
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    await page.goto(`${rig.baseUrl}/account/passkeys`);
    await heading(page, 'パスキーの管理');
    await page.getByLabel('メールアドレス', { exact: true }).fill(resident.email);
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'パスキーを表示する', exact: true }).click();
    const remove = page.getByRole('button', { name: '「仕事用のノートパソコン」を削除する', exact: true });
    await remove.waitFor();
    await assertFitsPhone(page);
    await assertAccessible(page, 'the passkey list');
    await screenshot(page, 'account-passkeys-ja');
    await remove.click();
    await page
      .getByRole('status')
      .filter({ hasText: 'パスキー「仕事用のノートパソコン」を削除しました。' })
      .waitFor();
    assert.equal(await page.getByRole('button', { name: /を削除する$/ }).count(), 1);
    await assertAccessible(page, 'the passkey list after a deletion');
    await context.close();
  });
});
