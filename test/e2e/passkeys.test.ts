/**
 * Passkeys in real Chromium with a virtual authenticator (CDP WebAuthn, user verification on): the
 * offer after a password login, registration, a passkey-only login in a fresh browser (acr mfa,
 * amr hwk), refusal of a replayed and of a forged assertion, and "あとで" continuing whatever went
 * wrong. PUBLIC_URL is http://localhost:<port>: Chromium treats 127.0.0.1 as a secure context too,
 * but refuses an IP address as the RP ID. Screenshots are saved under test-results/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContextOptions, CDPSession, Page } from 'playwright-core';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { ACR } from '../../src/identity/index.ts';
import { relyingPartyOf } from '../../src/identity/login/passkey.ts';
import { backend } from '../helpers/db.ts';
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
import { assertAccessible, browserSuite, launchChromium, resultsDir } from './chromium.ts';

const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
};

/** What CDP's WebAuthn.getCredentials returns for a credential, enough to add it elsewhere. */
interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  privateKey: string;
  signCount: number;
  rpId?: string;
  userHandle?: string;
}

interface Phone {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

describe(`passkeys in Chromium (${backend})`, browserSuite, () => {
  let rig: IdentityRig;
  let rp: Rp;
  let browser: Browser;
  let service: http.Server;
  const consoleErrors: string[] = [];
  /** Shared by the tests in order: the passkey registered first, and the subject it logs in as. */
  let registered: { resident: { id: string; email: string }; credential: VirtualCredential; sub: string };
  /** The form body a successful passkey login posted, replayed later. */
  let postedAssertion = '';

  before(async () => {
    service = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><html lang="ja"><title>サービス</title><h1>ようこそ</h1></html>');
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    rig = await startIdentityRig({}, { host: 'localhost' });
    rp = await relyingParty(rig, {
      redirectUri: `http://127.0.0.1:${port}/callback`,
      name: 'すくすく子育てアプリ',
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await rig?.close();
    await new Promise((resolve) => service?.close(resolve));
  });

  /** A fresh phone with a platform authenticator that verifies the user, holding `credential`. */
  async function newPhone(credential?: VirtualCredential): Promise<Phone> {
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    page.on('console', (message) => {
      // Refusals answer 400 or 401 on purpose; their statuses are asserted where they happen.
      if (message.type() !== 'error' || message.text().startsWith('Failed to load resource')) return;
      consoleErrors.push(`${page.url()}: ${message.text().trim()}`);
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    if (credential) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    return { page, cdp, authenticatorId };
  }

  async function startAtService(page: Page): Promise<Flow> {
    const flow = await startFlow(rp);
    const response = await page.goto(flow.authorizationUrl);
    assert.equal(response?.status(), 200);
    return flow;
  }

  async function heading(page: Page, name: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ state: 'visible' });
  }

  async function arriveAtService(page: Page): Promise<string> {
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri), { timeout: 10_000 });
    return page.url();
  }

  async function passwordLogin(page: Page, email: string): Promise<void> {
    await heading(page, 'ログイン');
    await page.getByLabel('メールアドレス', { exact: true }).fill(email);
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'ログインする', exact: true }).click();
  }

  async function consent(page: Page): Promise<void> {
    await heading(page, '情報提供の確認');
    await page.getByRole('button', { name: '許可する', exact: true }).click();
  }

  /** Posts `credential` through the page's own passkey form, as the script would; returns the status. */
  async function postCredential(page: Page, path: string, credential: string): Promise<number> {
    // The answer is a page (a refusal is not a redirect): wait until the browser has loaded it.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(path)),
      page.waitForEvent('load'),
      page.evaluate(`(() => {
        const form = document.getElementById('passkey-form');
        form.elements.namedItem('credential').value = ${JSON.stringify(credential)};
        form.submit();
      })()`),
    ]);
    return response.status();
  }

  async function passkeysOf(accountId: string) {
    const { rows } = await rig.testDb.db.query<{ name: string; last_used_at: Date | null; counter: string }>(
      'select name, last_used_at, counter::text as counter from identity.passkeys where account_id = $1',
      [accountId],
    );
    return rows;
  }

  it('offers a passkey after a password login, registers it and goes on to the service', async () => {
    const resident = await addResident(rig);
    const { page, cdp, authenticatorId } = await newPhone();
    const flow = await startAtService(page);
    await passwordLogin(page, resident.email);

    await heading(page, 'パスキーを登録しますか');
    const register = page.getByRole('button', { name: '登録する', exact: true });
    await register.waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'あとで', exact: true }).waitFor({ state: 'visible' });
    assert.equal(await page.locator('#passkey-unsupported').isVisible(), false);
    await page.screenshot({ path: `${resultsDir}passkey-offer-ja.png`, fullPage: true });
    await assertAccessible(page, 'the passkey offer');

    await page.getByLabel('パスキーの名前（任意）', { exact: true }).fill('自分のスマートフォン');
    await register.click();
    await consent(page);
    const claims = (await exchange(rp, flow, await arriveAtService(page))).claims();
    assert.equal(claims?.acr, ACR.password, 'registering does not change how this login was made');

    assert.deepEqual(
      (await passkeysOf(resident.id)).map((p) => p.name),
      ['自分のスマートフォン'],
    );
    const events = await listAuditEvents(rig.testDb.db, { accountId: resident.id, limit: 10 });
    assert.ok(events.some((e) => e.kind === 'passkey-registered' && e.outcome === 'success'));
    const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as {
      credentials: VirtualCredential[];
    };
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable credential');
    registered = { resident, credential: credentials[0] as VirtualCredential, sub: String(claims?.sub) };
    await page.context().close();
  });

  it('logs in with the passkey alone in a fresh browser, at mfa level with amr hwk', async () => {
    const { page } = await newPhone(registered.credential);
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/passkey/login')) {
        postedAssertion = new URLSearchParams(request.postData() ?? '').get('credential') ?? '';
      }
    });
    const flow = await startAtService(page);
    await heading(page, 'ログイン');
    const button = page.getByRole('button', { name: 'パスキーでログイン', exact: true });
    await button.waitFor({ state: 'visible' });
    const box = await button.boundingBox();
    assert.ok(box && box.height >= 44, `the passkey button is ${box?.height}px high`);
    await page.screenshot({ path: `${resultsDir}passkey-login-ja.png`, fullPage: true });
    await assertAccessible(page, 'the login page with a passkey button');

    await button.click();
    // A resident with a passkey is not offered another; consent is asked again in a new session.
    await consent(page);
    const claims = (await exchange(rp, flow, await arriveAtService(page))).claims();
    assert.equal(claims?.acr, ACR.mfa);
    assert.deepEqual(claims?.amr, ['hwk', 'user']);
    assert.equal(claims?.sub, registered.sub, 'the same resident, found without an e-mail address');

    const [stored] = await passkeysOf(registered.resident.id);
    assert.ok(stored?.last_used_at, 'the passkey records its use');
    assert.ok(Number(stored.counter) > 0, 'the signature counter is kept');
    const events = await listAuditEvents(rig.testDb.db, {
      accountId: registered.resident.id,
      kinds: ['login'],
      limit: 1,
    });
    assert.deepEqual(events[0]?.detail, { acr: ACR.mfa, amr: ['hwk', 'user'] });
    assert.ok(postedAssertion, 'the assertion posted by the browser was seen');
    await page.context().close();
  });

  it('refuses a replayed assertion and one signed over a challenge it never issued, and opens no session', async () => {
    const { page } = await newPhone(registered.credential);
    await startAtService(page);
    await heading(page, 'ログイン');
    await page.getByRole('button', { name: 'パスキーでログイン', exact: true }).waitFor({ state: 'visible' });

    // The assertion of the previous login, sent again in this interaction.
    assert.equal(await postCredential(page, '/passkey/login', postedAssertion), 401);
    await heading(page, 'ログイン');
    assert.equal(
      await page.getByRole('alert').first().textContent(),
      'パスキーを確認できませんでした。もう一度お試しください。',
    );

    // A genuine signature of the authenticator, over a challenge made up in the browser.
    const forged = await page.evaluate<string>(`(async () => {
      const credential = await navigator.credentials.get({ publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)), rpId: location.hostname, userVerification: 'required',
      } });
      return JSON.stringify(credential.toJSON());
    })()`);
    assert.equal(await postCredential(page, '/passkey/login', forged), 401);
    await heading(page, 'ログイン');
    await page.getByRole('alert').first().waitFor();

    // Garbage is refused the same way.
    assert.equal(await postCredential(page, '/passkey/login', 'not json'), 401);

    const failures = await listAuditEvents(rig.testDb.db, { kinds: ['login-failed'], limit: 3 });
    assert.deepEqual(
      failures.map((e) => e.detail),
      [
        { method: 'passkey', reason: 'malformed' },
        { method: 'passkey', reason: 'challenge' },
        { method: 'passkey', reason: 'challenge' },
      ],
    );
    // No session: the service sends this browser to the login page again.
    await startAtService(page);
    await heading(page, 'ログイン');
    await page.context().close();
  });

  it('refuses a copy of the passkey whose signature counter fell behind (a cloned authenticator)', async () => {
    // The credential as it was when registered: the login above has moved the stored counter past it.
    const { page } = await newPhone(registered.credential);
    await startAtService(page);
    await heading(page, 'ログイン');
    const button = page.getByRole('button', { name: 'パスキーでログイン', exact: true });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/passkey/login')),
      button.click(),
    ]);
    assert.equal(response.status(), 401);
    await heading(page, 'ログイン');
    await page.getByRole('alert').first().waitFor();
    const [failure] = await listAuditEvents(rig.testDb.db, { kinds: ['login-failed'], limit: 1 });
    assert.equal(failure?.accountId, registered.resident.id);
    assert.deepEqual(failure?.detail, { method: 'passkey', reason: 'counter' });
    await page.context().close();
  });

  it('lets "あとで" continue after a failed registration, and offers once per interaction', async () => {
    const resident = await addResident(rig);
    const { page, cdp, authenticatorId } = await newPhone();
    const flow = await startAtService(page);
    const loginPage = page.url();
    await passwordLogin(page, resident.email);
    await heading(page, 'パスキーを登録しますか');

    // The device cannot verify the resident: the browser refuses, the page says so and stays usable.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await page.getByRole('button', { name: '登録する', exact: true }).click();
    const alert = page.locator('#passkey-error');
    await alert.waitFor({ state: 'visible' });
    assert.match((await alert.textContent()) ?? '', /^登録を中止しました。/);

    // A credential the server cannot verify: the offer again, with the way out.
    assert.equal(await postCredential(page, '/passkey/register', '{}'), 400);
    await heading(page, 'パスキーを登録しますか');
    assert.match((await page.getByRole('alert').first().textContent()) ?? '', /登録できませんでした/);

    // Back on the login page of the same interaction and in again: no second offer.
    await page.goto(loginPage);
    await passwordLogin(page, resident.email);
    await consent(page);
    const claims = (await exchange(rp, flow, await arriveAtService(page))).claims();
    assert.equal(claims?.acr, ACR.password);
    assert.deepEqual(await passkeysOf(resident.id), []);
    await page.context().close();
  });

  it('continues to the service with "あとで"', async () => {
    const resident = await addResident(rig);
    const { page } = await newPhone();
    const flow = await startAtService(page);
    await passwordLogin(page, resident.email);
    await heading(page, 'パスキーを登録しますか');
    await page.getByRole('button', { name: 'あとで', exact: true }).click();
    await consent(page);
    const claims = (await exchange(rp, flow, await arriveAtService(page))).claims();
    assert.equal(claims?.acr, ACR.password);
    assert.deepEqual(await passkeysOf(resident.id), []);
    await page.context().close();
  });

  it('turns passkeys off when PUBLIC_URL is an IP address, which browsers refuse as an RP ID', () => {
    assert.equal(relyingPartyOf('http://127.0.0.1:8080/oidc', 'Machi'), undefined);
    assert.equal(relyingPartyOf('http://[::1]:8080/oidc', 'Machi'), undefined);
    assert.deepEqual(relyingPartyOf('https://id.city.example.jp/oidc', 'Machi'), {
      id: 'id.city.example.jp',
      origin: 'https://id.city.example.jp',
      name: 'Machi',
    });
  });

  it('logs no errors in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
