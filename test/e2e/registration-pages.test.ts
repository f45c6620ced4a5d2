/**
 * Registration (/account/register) in real Chromium at a phone's size, in Japanese and English:
 * the resident fills in the form, is told a mail was sent, the mail reaches a real SMTP server on
 * 127.0.0.1, its link opened in the browser confirms the address, and the new account then logs in
 * to a service. A form with a too short password says so as an alert and keeps what was typed
 * except the password. Each page is checked with axe and saved under test-results/.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { findAccountByEmail, identityJobHandlers, type MailConfig } from '../../src/identity/index.ts';
import { Worker } from '../../src/platform/index.ts';
import { type Mailbox, startMailbox } from '../identity/mailbox.ts';
import {
  exchange,
  type IdentityRig,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, screenshot } from './chromium.ts';
import {
  arriveAt,
  assertFitsPhone,
  heading,
  htmlLang,
  newPhone,
  type Service,
  startService,
} from './phone-pages.ts';

const SERVICE = 'すくすく子育てアプリ';
const NEW_PASSWORD = 'a brand new passphrase 2024';

/** The words of the registration form and of the login that follows, in each language. */
const WORDS = {
  ja: {
    title: '新規登録',
    email: 'メールアドレス',
    name: 'お名前（サービスに表示されます）',
    password: 'パスワード',
    municipality: 'お住まいの市区町村',
    terms: '利用規約と個人情報の取扱いに同意します',
    register: '登録する',
    sent: 'メールを確認してください',
    verified: 'メールアドレスの確認',
    verifiedText: 'メールアドレスを確認しました。ご利用のサービスからログインしてください。',
    login: 'ログイン',
    submitLogin: 'ログインする',
    consent: '情報提供の確認',
    allow: '許可する',
  },
  en: {
    title: 'Register',
    email: 'E-mail address',
    name: 'Your name (shown to services)',
    password: 'Password',
    municipality: 'Municipality you live in',
    terms: 'I agree to the terms of use and the handling of personal information',
    register: 'Register',
    sent: 'Check your mail',
    verified: 'E-mail address confirmation',
    verifiedText: 'Your e-mail address is confirmed. Please log in from the service you use.',
    login: 'Log in',
    submitLogin: 'Log in',
    consent: 'Share your information?',
    allow: 'Allow',
  },
};
type Words = (typeof WORDS)['ja'];

let emails = 0;
const newEmail = () => `phone${++emails}-${Date.now()}@example.jp`;

describe('registration pages at a phone size', browserSuite, () => {
  let mailbox: Mailbox;
  let rig: IdentityRig;
  let worker: Worker;
  let service: Service;
  let rp: Rp;
  let browser: Browser;

  before(async () => {
    mailbox = await startMailbox();
    const mail: MailConfig = { smtpUrl: mailbox.smtpUrl, from: 'Machi <no-reply@city.example.jp>' };
    rig = await startIdentityRig({}, { mail });
    worker = new Worker(rig.testDb.db, {
      handlers: identityJobHandlers(rig.testDb.db, { mail, publicUrl: rig.baseUrl }),
      pollIntervalMs: 20,
    });
    worker.start();
    service = await startService(SERVICE);
    rp = await relyingParty(rig, { redirectUri: `${service.origin}/callback`, name: SERVICE });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await worker?.stop();
    await rig?.close();
    await service?.close();
    await mailbox?.close();
  });
  beforeEach(async () => {
    // Mail limits per client address are tested elsewhere; every request here comes from 127.0.0.1.
    await rig.testDb.db.query(`delete from identity.login_throttle where key like 'mail-%'`);
  });

  async function fillForm(page: Page, w: Words, values: { email: string; password: string }): Promise<void> {
    await page.getByLabel(w.email, { exact: true }).fill(values.email);
    await page.getByLabel(w.name, { exact: true }).fill('青葉 太郎');
    await page.getByLabel(w.password, { exact: true }).fill(values.password);
    await page.getByLabel(w.municipality, { exact: true }).selectOption('041009');
    await page.getByLabel(w.terms, { exact: true }).check();
  }

  async function submit(page: Page, w: Words): Promise<number> {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/account/register')),
      page.getByRole('button', { name: w.register, exact: true }).click(),
    ]);
    return response.status();
  }

  /** Checks the page fits the phone and is accessible, and saves it as `name`. */
  async function look(page: Page, name: string): Promise<void> {
    await assertFitsPhone(page);
    await assertAccessible(page, name);
    await screenshot(page, name);
  }

  /** Fills in and sends the form shown, then checks the "mail sent" page. */
  async function register(page: Page, w: Words, email: string, lang: 'ja' | 'en'): Promise<void> {
    await fillForm(page, w, { email, password: NEW_PASSWORD });
    assert.equal(await submit(page, w), 200);
    await heading(page, w.sent);
    assert.equal(await htmlLang(page), lang);
    await page.getByRole('status').waitFor();
    await look(page, `account-register-sent-${lang}`);
  }

  /** Opens the link of the mail that reached `email` in a fresh phone of `locale`. */
  async function followMailedLink(email: string, w: Words, lang: 'ja' | 'en', problems: string[]) {
    const mail = await mailbox.next(email);
    const link = new RegExp(
      `${rig.baseUrl.replaceAll('.', '\\.')}/account/verify\\?token=[A-Za-z0-9_-]{43}`,
    ).exec(mail.text)?.[0];
    assert.ok(link, `no verification link in:\n${mail.text}`);
    const page = await newPhone(browser, problems, lang === 'en' ? 'en-US' : 'ja-JP');
    assert.equal((await page.goto(link))?.status(), 200);
    await heading(page, w.verified);
    assert.equal(await page.getByRole('status').textContent(), w.verifiedText);
    await look(page, `account-verified-${lang}`);
    return page;
  }

  /** Logs in at the service on `page` with the new account; returns what the service learns. */
  async function logInAtService(page: Page, w: Words, email: string, params: Record<string, string> = {}) {
    const flow = await startFlow(rp, params);
    await page.goto(flow.authorizationUrl);
    await heading(page, w.login);
    await page.getByLabel(w.email, { exact: true }).fill(email);
    await page.getByLabel(w.password, { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: w.submitLogin, exact: true }).click();
    await heading(page, w.consent);
    await page.getByRole('button', { name: w.allow, exact: true }).click();
    const tokens = await exchange(rp, flow, (await arriveAt(page, rp.redirectUri)).href);
    const sub = tokens.claims()?.sub as string;
    return oidc.fetchUserInfo(rp.config, tokens.access_token, sub);
  }

  it('registers in Japanese: the form, the "mail sent" page, the mailed link, then a login at the service', async () => {
    const problems: string[] = [];
    const email = newEmail();
    const page = await newPhone(browser, problems);
    assert.equal((await page.goto(`${rig.baseUrl}/account/register`))?.status(), 200);
    await heading(page, WORDS.ja.title);
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), '新規登録 - Machi 共通ID');
    await page.getByText('12文字以上。ほかのサービスと同じものは避けてください。').waitFor();
    await look(page, 'account-register-ja');
    await register(page, WORDS.ja, email, 'ja');

    const verified = await followMailedLink(email, WORDS.ja, 'ja', problems);
    const info = await logInAtService(verified, WORDS.ja, email);
    assert.equal(info.email, email);
    assert.equal(info.email_verified, true);
    assert.equal(info.name, '青葉 太郎');
    assert.equal(info.home_municipality, '041009');
    assert.deepEqual(problems, []);
    await page.context().close();
    await verified.context().close();
  });

  it('registers in English after the language switch, and the link opened in an English browser answers in English', async () => {
    const problems: string[] = [];
    const email = newEmail();
    const page = await newPhone(browser, problems);
    await page.goto(`${rig.baseUrl}/account/register`);
    await heading(page, WORDS.ja.title);
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await heading(page, WORDS.en.title);
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.title(), 'Register - Machi Common ID');
    const sendai = page.getByRole('option', { name: '仙台市 (Sendai City)', exact: true });
    assert.equal(await sendai.getAttribute('value'), '041009');
    await look(page, 'account-register-en');
    await register(page, WORDS.en, email, 'en');

    const verified = await followMailedLink(email, WORDS.en, 'en', problems);
    const info = await logInAtService(verified, WORDS.en, email, { ui_locales: 'en' });
    assert.equal(info.email_verified, true);
    assert.deepEqual(problems, []);
    await page.context().close();
    await verified.context().close();
  });

  it('says a too short password is too short, as an alert, keeping what was typed except the password', async () => {
    const problems: string[] = [];
    const email = newEmail();
    const page = await newPhone(browser, problems);
    await page.goto(`${rig.baseUrl}/account/register`);
    await fillForm(page, WORDS.ja, { email, password: 'short' });
    assert.equal(await submit(page, WORDS.ja), 400);

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'パスワードは12文字以上にしてください。');
    await heading(page, WORDS.ja.title);
    const password = page.getByLabel(WORDS.ja.password, { exact: true });
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.equal(await password.inputValue(), '', 'the password is not sent back');
    const field = (label: string) => page.getByLabel(label, { exact: true });
    assert.equal(await field(WORDS.ja.email).inputValue(), email);
    assert.equal(await field(WORDS.ja.email).getAttribute('aria-invalid'), null);
    assert.equal(await field(WORDS.ja.name).inputValue(), '青葉 太郎');
    assert.equal(await field(WORDS.ja.municipality).inputValue(), '041009');
    assert.equal(await field(WORDS.ja.terms).isChecked(), true);
    await look(page, 'account-register-error-ja');
    assert.equal(await findAccountByEmail(rig.testDb.db, email), undefined, 'no account was made');

    // Only the password needs typing again.
    await password.fill(NEW_PASSWORD);
    assert.equal(await submit(page, WORDS.ja), 200);
    await heading(page, WORDS.ja.sent);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
