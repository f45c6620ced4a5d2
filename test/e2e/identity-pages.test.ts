/**
 * The provider's pages not covered elsewhere, in real Chromium at a phone's size: the My Number
 * Card section of the login page answered as a card-reading front end would (the signature made
 * here with a test card), a revoked card, the authenticator-code step, and RP-initiated logout in
 * Japanese and English. Each page is checked with axe and saved under test-results/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { ACR, jpkiConfig } from '../../src/identity/index.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/identity/totp.ts';
import { makeTestJpki, type TestCard, type TestJpki } from '../identity/jpki-fixtures.ts';
import {
  addResident,
  exchange,
  type Flow,
  type IdentityRig,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, resultsDir, screenshot } from './chromium.ts';
import {
  arriveAt,
  assertFitsPhone,
  heading,
  htmlLang,
  newPhone,
  type Service,
  startService,
} from './phone-pages.ts';

const SERVICE = '母子手帳アプリ';

/** The card section's words in each language. */
const CARD = {
  ja: {
    section: 'マイナンバーカードでログイン',
    challenge: '確認コード',
    signature: '署名',
    certificate: '利用者証明用電子証明書',
    submit: 'カードでログインする',
  },
  en: {
    section: 'Log in with the My Number Card',
    challenge: 'Code to sign',
    signature: 'Signature',
    certificate: 'User authentication certificate',
    submit: 'Log in with the card',
  },
};

describe('card login, authenticator code and logout pages at a phone size', browserSuite, () => {
  let jpki: TestJpki;
  let rig: IdentityRig;
  let service: Service;
  let rp: Rp;
  let browser: Browser;
  let bye: string;

  before(async () => {
    jpki = await makeTestJpki();
    service = await startService(SERVICE);
    bye = `${service.origin}/bye`;
    rig = await startIdentityRig({}, { jpki: jpkiConfig({ caCertificates: jpki.caPem }) });
    rp = await relyingParty(rig, {
      redirectUri: `${service.origin}/callback`,
      postLogoutRedirectUris: [bye],
      name: SERVICE,
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
    await service?.close();
    await jpki?.close();
  });

  /** The service sends the phone to the provider; the login page answers 200. */
  async function goToLogin(page: Page, params: Record<string, string> = {}): Promise<Flow> {
    const flow = await startFlow(rp, params);
    const response = await page.goto(flow.authorizationUrl);
    assert.equal(response?.status(), 200, `the login page answered ${response?.status()}`);
    return flow;
  }

  async function enterPassword(page: Page, email: string): Promise<void> {
    await page.getByLabel('メールアドレス', { exact: true }).fill(email);
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'ログインする', exact: true }).click();
  }

  /** Agrees on the consent page and waits for the service's callback. */
  async function allow(page: Page): Promise<URL> {
    await heading(page, '情報提供の確認');
    await page.getByRole('button', { name: '許可する', exact: true }).click();
    return arriveAt(page, rp.redirectUri);
  }

  /**
   * What a card-reading front end does: reads the challenge and its id from the page, has the card
   * sign the challenge's bytes, fills in the signature and the certificate (base64 DER) and sends
   * the form. Returns the status the provider answered the form with.
   */
  async function answerWithCard(page: Page, card: TestCard, words = CARD.ja): Promise<number> {
    const section = page.getByRole('region', { name: words.section, exact: true });
    const challenge = await section.getByLabel(words.challenge, { exact: true }).inputValue();
    const id = await section.locator('input[name="challengeId"]').inputValue();
    const answer = await card.answer({ id, challenge });
    await section.getByLabel(words.signature, { exact: true }).fill(answer.signature);
    await section.getByLabel(words.certificate, { exact: true }).fill(answer.certificate);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/card')),
      section.getByRole('button', { name: words.submit, exact: true }).click(),
    ]);
    return response.status();
  }

  it('binds a card after the password when the service asks for card assurance, then logs in by card alone', async () => {
    const problems: string[] = [];
    const resident = await addResident(rig);
    const card = await jpki.newCard();
    const page = await newPhone(browser, problems);
    const flow = await goToLogin(page, { acr_values: ACR.card });
    await heading(page, 'ログイン');
    const section = page.getByRole('region', { name: CARD.ja.section, exact: true });
    const challenge = await section.getByLabel(CARD.ja.challenge, { exact: true }).inputValue();
    assert.match(challenge, /^[A-Za-z0-9_-]{43}$/, 'the challenge is 32 bytes, base64url');
    assert.equal(await section.getByLabel(CARD.ja.challenge, { exact: true }).getAttribute('readonly'), '');
    await assertFitsPhone(page);
    await assertAccessible(page, 'login with the card section (ja)');
    await screenshot(page, 'identity-card-login-ja');
    await section.screenshot({ path: `${resultsDir}identity-card-section-ja.png` });

    // The password alone does not meet acr_values=card: the page asks for the card, saying why.
    await enterPassword(page, resident.email);
    await page
      .getByText('このサービスには、より確かな本人確認（マイナンバーカードなど）が必要です。')
      .waitFor();
    await heading(page, 'ログイン');
    await assertFitsPhone(page);
    await screenshot(page, 'identity-card-step-up-ja');
    const stepUpAnswer = await answerWithCard(page, card);
    assert.equal(stepUpAnswer, 303, 'the card is accepted and bound to the logged-in account');
    const claims = (await exchange(rp, flow, (await allow(page)).href)).claims();
    assert.equal(claims?.acr, ACR.card);
    assert.ok(((claims?.amr ?? []) as string[]).includes('hwk'), `amr is ${JSON.stringify(claims?.amr)}`);

    // Another phone, nobody logged in: the bound card alone names the resident.
    const other = await newPhone(browser, problems);
    const flow2 = await goToLogin(other, { acr_values: ACR.card });
    assert.equal(await answerWithCard(other, card), 303);
    const claims2 = (await exchange(rp, flow2, (await allow(other)).href)).claims();
    assert.equal(claims2?.sub, claims?.sub, 'the same resident');
    assert.equal(claims2?.acr, ACR.card);
    assert.deepEqual(problems, []);
    await page.context().close();
    await other.context().close();
  });

  it("says in the page's language, as an alert on the login page, that a revoked card cannot be used, and opens no session", async () => {
    const problems: string[] = [];
    const page = await newPhone(browser, problems);
    await goToLogin(page);
    assert.equal(await answerWithCard(page, jpki.cards.revoked), 401);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      '利用者証明用電子証明書は失効しています。お住まいの市区町村の窓口にお問い合わせください。',
    );
    await heading(page, 'ログイン');
    assert.equal(await htmlLang(page), 'ja');
    await page.getByRole('region', { name: CARD.ja.section, exact: true }).waitFor();
    await assertFitsPhone(page);
    await assertAccessible(page, 'login after a revoked card (ja)');
    await screenshot(page, 'identity-card-revoked-ja');

    // No session: the service's next request asks for a login again, here in English.
    await goToLogin(page, { ui_locales: 'en' });
    await heading(page, 'Log in');
    assert.equal(await answerWithCard(page, jpki.cards.revoked, CARD.en), 401);
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      'The card’s user-authentication certificate has been revoked. Please contact your municipal office.',
    );
    assert.equal(await htmlLang(page), 'en');
    await assertFitsPhone(page);
    await assertAccessible(page, 'login after a revoked card (en)');
    await screenshot(page, 'identity-card-revoked-en');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('asks for the authenticator code after the password, says a wrong code is wrong, and logs in at mfa level', async () => {
    const problems: string[] = [];
    const resident = await addResident(rig);
    const db = rig.testDb.db;
    const { secret } = await startTotpEnrolment(db, rig.box, resident.id, resident.email);
    // Confirmed with the previous period's code, so the current one is still unused.
    const previous = await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    await confirmTotpEnrolment(db, rig.box, resident.id, previous);
    const page = await newPhone(browser, problems);
    const flow = await goToLogin(page);
    await enterPassword(page, resident.email);

    await heading(page, '確認コードの入力');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), '確認コードの入力 - Machi 共通ID');
    const code = page.getByLabel('6桁の確認コード', { exact: true });
    assert.equal(await code.getAttribute('inputmode'), 'numeric', 'the phone shows its number pad');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    await assertFitsPhone(page);
    await assertAccessible(page, 'the authenticator code page (ja)');
    await screenshot(page, 'identity-totp-ja');

    const right = await generate({ secret });
    await code.fill(right === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: '確認する', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), '確認コードが違うか、使用済みです。');
    await heading(page, '確認コードの入力');
    assert.equal(await code.inputValue(), '', 'the wrong code is not kept');
    assert.equal(await code.getAttribute('aria-invalid'), 'true');
    assert.equal(await code.getAttribute('aria-describedby'), await alert.getAttribute('id'));
    await assertFitsPhone(page);
    await assertAccessible(page, 'the authenticator code page with an error (ja)');
    await screenshot(page, 'identity-totp-error-ja');

    await code.fill(right);
    await page.getByRole('button', { name: '確認する', exact: true }).click();
    const claims = (await exchange(rp, flow, (await allow(page)).href)).claims();
    assert.equal(claims?.acr, ACR.mfa);
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  /** A phone logged in to the service; returns the ID token the service got. */
  async function loggedInPhone(problems: string[]): Promise<{ page: Page; idToken: string }> {
    const resident = await addResident(rig);
    const page = await newPhone(browser, problems);
    const flow = await goToLogin(page);
    await enterPassword(page, resident.email);
    const tokens = await exchange(rp, flow, (await allow(page)).href);
    assert.ok(tokens.id_token);
    return { page, idToken: tokens.id_token };
  }

  function endSessionUrl(idToken: string, params: Record<string, string> = {}): string {
    return oidc.buildEndSessionUrl(rp.config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: bye,
      ...params,
    }).href;
  }

  it('asks in Japanese whether to log out of every service, and after "ログアウトする" the next login needs the password', async () => {
    const problems: string[] = [];
    const { page, idToken } = await loggedInPhone(problems);
    // Still logged in: the service's next request comes straight back without a login page.
    await page.goto((await startFlow(rp)).authorizationUrl);
    await arriveAt(page, rp.redirectUri);

    const response = await page.goto(endSessionUrl(idToken));
    assert.equal(response?.status(), 200);
    await heading(page, 'ログアウト');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), 'ログアウト - Machi 共通ID');
    await page.getByText('すべてのサービスからログアウトしますか。', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'やめる', exact: true }).waitFor();
    await assertFitsPhone(page);
    await assertAccessible(page, 'the logout page (ja)');
    await screenshot(page, 'identity-logout-ja');

    await page.getByRole('button', { name: 'ログアウトする', exact: true }).click();
    const back = await arriveAt(page, bye);
    assert.equal(back.href, bye);
    await heading(page, 'ようこそ');

    await goToLogin(page);
    await heading(page, 'ログイン');
    await page.getByLabel('パスワード', { exact: true }).waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('shows the logout page in English, with <html lang="en">, when the service asks ui_locales=en', async () => {
    const problems: string[] = [];
    const { page, idToken } = await loggedInPhone(problems);
    await page.goto(endSessionUrl(idToken, { ui_locales: 'en' }));
    await heading(page, 'Log out');
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.title(), 'Log out - Machi Common ID');
    assert.equal(await page.locator('main > header').textContent(), 'Machi Common ID');
    await page.getByText('Log out of every service?', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
    await assertFitsPhone(page);
    await assertAccessible(page, 'the logout page (en)');
    await screenshot(page, 'identity-logout-en');

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    assert.equal((await arriveAt(page, bye)).href, bye);
    await goToLogin(page, { ui_locales: 'en' });
    await heading(page, 'Log in');
    await page.getByLabel('Password', { exact: true }).waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
