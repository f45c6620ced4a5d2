/**
 * The staff console in real Chromium at a phone's size: a staff member chooses the municipality,
 * signs in with password and authenticator code at Machi's own login pages, registers a service
 * and sees its secret once, then signs out. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { addAccount, grantStaffRole, issueTotp } from '../../src/identity/index.ts';
import { type IdentityRig, PASSWORD, startIdentityRig } from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';

describe('staff console in Chromium', browserSuite, () => {
  let rig: IdentityRig;
  let browser: Browser;
  let page: Page;
  const email = 'console-staff@city.sendai.example.jp';
  let secret: string;
  const pageErrors: string[] = [];

  before(async () => {
    rig = await startIdentityRig();
    const account = await addAccount(rig.testDb.db, {
      kind: 'staff',
      email,
      displayName: '青葉 職員',
      password: PASSWORD,
    });
    await grantStaffRole(rig.testDb.db, '041009', account.id, 'admin');
    ({ secret } = await issueTotp(rig.testDb.db, rig.box, account.id, email));
    browser = await launchChromium();
    page = await (await browser.newContext(phone)).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  it('signs a staff member in for the chosen municipality with two factors', async () => {
    await page.goto(`${rig.baseUrl}/console/`);
    await page.getByLabel('自治体').selectOption('041009');
    await screenshot(page, 'console-sign-in-ja');
    await assertAccessible(page, 'console sign-in');
    await page.getByRole('button', { name: 'サインインする' }).click();

    await page.waitForURL(/\/interaction\//);
    await page.getByLabel('メールアドレス').fill(email);
    await page.getByLabel('パスワード').fill(PASSWORD);
    await page.locator('button.primary[type="submit"]').first().click();
    await page.locator('#code').fill(await generate({ secret }));
    await page.locator('button.primary[type="submit"]').click();

    await page.waitForURL(`${rig.baseUrl}/console/`);
    await page.getByRole('heading', { name: '仙台市' }).waitFor();
    assert.match(
      (await page.locator('.console__who').textContent()) ?? '',
      /青葉 職員（管理者）としてサインインしています/,
    );
    assert.equal(new URL(page.url()).search, '', 'the code is gone from the address bar');
  });

  it('registers a service and shows its secret once', async () => {
    await page.getByText('登録されたサービスはまだありません。').waitFor();
    await page.getByLabel('サービス名').fill('仙台こども相談オンライン');
    await page.getByLabel('リダイレクトURI').fill('https://kodomo.example.jp/callback');
    await page.getByLabel('メールアドレス').check();
    await page.getByRole('button', { name: '登録する' }).click();

    const notice = page.getByRole('status').filter({ hasText: '登録しました' });
    await notice.waitFor();
    const text = (await notice.textContent()) ?? '';
    assert.match(text, /「仙台こども相談オンライン」を登録しました/);
    assert.match(text, /client_secret\s*[\w-]{40,}/);
    const listed = page.locator('.client-list__item');
    await listed.first().waitFor();
    assert.equal(await listed.count(), 1);
    assert.match((await listed.textContent()) ?? '', /openid profile email/);
    await screenshot(page, 'console-services-ja');
    await assertAccessible(page, 'console services');
  });

  it('refuses a bad redirect URI with the reason, registering nothing', async () => {
    await page.getByLabel('サービス名').fill('不正なサービス');
    await page.getByLabel('リダイレクトURI').fill('not a url');
    await page.getByRole('button', { name: '登録する' }).click();
    const alert = page.locator('.form-error');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /is not a URL/);
    assert.equal(await page.locator('.client-list__item').count(), 1);
  });

  it('signs out at the provider and comes back to the sign-in', async () => {
    await page.getByRole('button', { name: 'サインアウト' }).click();
    await page.getByRole('button', { name: 'ログアウトする' }).click();
    await page.waitForURL(`${rig.baseUrl}/console/`);
    await page.getByRole('button', { name: 'サインインする' }).waitFor();
    // The session is over at the provider too: signing in asks for the password again.
    await page.getByRole('button', { name: 'サインインする' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByLabel('パスワード').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
