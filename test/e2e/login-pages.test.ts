/**
 * The OpenID provider's login and consent pages in real Chromium at a phone's size: a service
 * sends the resident there, they log in and agree, and the browser lands back at the service with
 * a code. Japanese first, English with `ui_locales=en`, the wrong-password message, keyboard use
 * and no serious accessibility violations. Screenshots are saved under test-results/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import {
  addResident,
  exchange,
  type IdentityRig,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, screenshot } from './chromium.ts';

/** A mid-range phone: 390×844 CSS pixels, Japanese locale. */
const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
};

const SERVICE = 'すくすく子育てアプリ';

interface Focused {
  id: string;
  text: string;
  focusVisible: boolean;
  outlineStyle: string;
  outlineWidth: number;
  outlineColor: string;
}

describe('login and consent pages at a phone size', browserSuite, () => {
  let rig: IdentityRig;
  let rp: Rp;
  let resident: { id: string; email: string };
  let browser: Browser;
  /** The service's redirect URI: a page on 127.0.0.1 that records what reached it. */
  let service: http.Server;
  const callbacks: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    service = http.createServer((request, response) => {
      callbacks.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html lang="ja"><head><title>${SERVICE}</title></head><body><h1>ようこそ</h1></body></html>`,
      );
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;

    rig = await startIdentityRig();
    resident = await addResident(rig);
    rp = await relyingParty(rig, { redirectUri: `http://127.0.0.1:${port}/callback`, name: SERVICE });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await rig?.close();
    await new Promise((resolve) => service?.close(resolve));
  });

  /** A fresh phone (no session at the provider) sent to the provider by the service. */
  async function startAtService(params: Record<string, string> = {}) {
    const flow = await startFlow(rp, params);
    const context = await browser.newContext(phone);
    const page = await context.newPage();
    page.on('console', (message) => {
      // Statuses are asserted where they matter (the wrong password is a 401; there is no favicon).
      if (message.type() !== 'error' || message.text().startsWith('Failed to load resource')) return;
      consoleErrors.push(`${page.url()}: ${message.text().trim()}`);
    });
    const response = await page.goto(flow.authorizationUrl);
    assert.equal(response?.status(), 200, `the login page answered ${response?.status()}`);
    assert.match(page.url(), new RegExp(`^${rig.baseUrl}/interaction/`));
    return { page, flow };
  }

  /** Waits until the browser has left the provider for the service's redirect URI. */
  async function arriveAtService(page: Page): Promise<URL> {
    try {
      await page.waitForURL((url) => url.href.startsWith(rp.redirectUri), { timeout: 10_000 });
    } catch (error) {
      // Chromium reports a blocked navigation on the console just after it aborts it.
      await page.waitForEvent('console', { timeout: 1000 }).catch(() => undefined);
      const errors = consoleErrors.filter((e) => e.startsWith(page.url()));
      assert.fail(
        `the browser did not reach the service (${(error as Error).message.split('\n')[0]}); still at ${page.url()}; console: ${JSON.stringify(errors)}`,
      );
    }
    return new URL(page.url());
  }

  async function heading(page: Page, name: string): Promise<void> {
    await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ state: 'visible' });
  }

  async function htmlLang(page: Page): Promise<string | null> {
    return page.locator('html').getAttribute('lang');
  }

  async function logIn(
    page: Page,
    labels: { email: string; password: string; submit: string },
    password = PASSWORD,
  ) {
    await page.getByLabel(labels.email, { exact: true }).fill(resident.email);
    await page.getByLabel(labels.password, { exact: true }).fill(password);
    await page.getByRole('button', { name: labels.submit, exact: true }).click();
  }
  const ja = { email: 'メールアドレス', password: 'パスワード', submit: 'ログインする' };
  const en = { email: 'E-mail address', password: 'Password', submit: 'Log in' };

  /** The texts of the consent page's list of what the service will receive. */
  async function sharedItems(page: Page): Promise<string[]> {
    return page.locator('main ul > li').allTextContents();
  }

  /** No sideways scrolling, readable base text, fields and buttons at least 44px high. */
  async function assertFitsPhone(page: Page): Promise<void> {
    const layout = await page.evaluate<{ scrollWidth: number; width: number; fontSize: number }>(`({
      scrollWidth: document.documentElement.scrollWidth,
      width: window.innerWidth,
      fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    })`);
    assert.ok(layout.scrollWidth <= layout.width, `page scrolls sideways (${layout.scrollWidth}px)`);
    assert.ok(layout.fontSize >= 16, `base font size is ${layout.fontSize}px`);
    for (const target of await page.locator('main button, main input:not([type="hidden"]), main a').all()) {
      const box = await target.boundingBox();
      const name = (await target.getAttribute('id')) ?? (await target.textContent());
      assert.ok(box && box.height >= 44, `tap target "${name}" is ${box?.height}px high`);
      assert.ok(box.x >= 0 && box.x + box.width <= layout.width, `"${name}" sticks out of the screen`);
    }
  }

  /** The element that has focus, whether it matches :focus-visible, and its outline. */
  async function focused(page: Page): Promise<Focused> {
    return page.evaluate<Focused>(`(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return {
        id: el.id, text: el.textContent.trim(), focusVisible: el.matches(':focus-visible'),
        outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor,
      };
    })()`);
  }

  it('logs a resident in and asks for consent in Japanese, then returns to the service with a code', async () => {
    const { page, flow } = await startAtService();
    await heading(page, 'ログイン');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), 'ログイン - Machi 共通ID');
    assert.equal(await page.locator('main > header').textContent(), 'Machi 共通ID');
    assert.match(
      (await page.locator('main').textContent()) ?? '',
      new RegExp(`「${SERVICE}」を利用するためにログインしてください。`),
    );
    await page.getByRole('button', { name: 'やめる', exact: true }).waitFor();
    await assertFitsPhone(page);
    await screenshot(page, 'oidc-login-ja');

    await logIn(page, ja);
    await heading(page, '情報提供の確認');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), '情報提供の確認 - Machi 共通ID');
    assert.match(
      (await page.locator('main').textContent()) ?? '',
      new RegExp(`「${SERVICE}」に次の情報を提供します。よろしいですか。`),
    );
    assert.deepEqual(await sharedItems(page), [
      '利用者を識別する番号（サービスごとに異なります）',
      '氏名',
      'メールアドレス',
      'お住まいの市区町村',
    ]);
    await page.getByRole('button', { name: '許可しない', exact: true }).waitFor();
    await assertFitsPhone(page);
    await screenshot(page, 'oidc-consent-ja');

    await page.getByRole('button', { name: '許可する', exact: true }).click();
    const callback = await arriveAtService(page);
    await heading(page, 'ようこそ');
    assert.ok(callback.searchParams.get('code'), `no code in ${callback.href}`);
    assert.equal(callback.searchParams.get('state'), flow.state);
    assert.ok(callbacks.includes(`${callback.pathname}${callback.search}`), 'the service page was loaded');
    // The code is a real one: the service exchanges it for tokens about this resident.
    const tokens = await exchange(rp, flow, callback.href);
    const sub = tokens.claims()?.sub;
    assert.ok(sub, 'the ID token names no subject');
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, sub);
    assert.equal(info.email, resident.email);
    await page.context().close();
  });

  it('says in Japanese, as an alert, that the password is wrong and empties the password field', async () => {
    const { page } = await startAtService();
    await heading(page, 'ログイン');
    await logIn(page, ja, 'wrong password');

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'メールアドレスまたはパスワードが違います。');
    await heading(page, 'ログイン');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.getByLabel('パスワード', { exact: true }).inputValue(), '');
    const email = page.getByLabel('メールアドレス', { exact: true });
    assert.equal(await email.inputValue(), resident.email, 'the e-mail address typed is kept');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    await assertFitsPhone(page);
    await screenshot(page, 'oidc-login-error-ja');
    await assertAccessible(page, 'login with error (ja)');

    // The resident can try again on the same page.
    await logIn(page, ja);
    await heading(page, '情報提供の確認');
    await page.context().close();
  });

  it('shows the login and consent pages in English, with <html lang="en">, when the service asks ui_locales=en', async () => {
    const { page } = await startAtService({ ui_locales: 'en' });
    await heading(page, 'Log in');
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.title(), 'Log in - Machi Common ID');
    assert.equal(await page.locator('main > header').textContent(), 'Machi Common ID');
    assert.match((await page.locator('main').textContent()) ?? '', new RegExp(`Log in to use ${SERVICE}\\.`));
    await page.getByRole('button', { name: 'Cancel', exact: true }).waitFor();
    await assertFitsPhone(page);
    await screenshot(page, 'oidc-login-en');
    await assertAccessible(page, 'login (en)');

    await logIn(page, en);
    await heading(page, 'Share your information?');
    assert.equal(await htmlLang(page), 'en');
    assert.deepEqual(await sharedItems(page), [
      'A number that identifies you (different for each service)',
      'Your name',
      'Your e-mail address',
      'Your municipality',
    ]);
    await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Do not allow', exact: true }).waitFor();
    await assertFitsPhone(page);
    await screenshot(page, 'oidc-consent-en');
    await page.context().close();
  });

  it('has no serious or critical accessibility violations on the login and consent pages', async () => {
    const { page } = await startAtService();
    await heading(page, 'ログイン');
    await assertAccessible(page, 'login (ja)');
    await logIn(page, ja);
    await heading(page, '情報提供の確認');
    await assertAccessible(page, 'consent (ja)');
    await page.context().close();
  });

  it('can be used with the keyboard alone: Tab goes to e-mail, password, then the login button, with visible focus', async () => {
    const { page, flow } = await startAtService();
    await heading(page, 'ログイン');

    await page.keyboard.press('Tab');
    let now = await focused(page);
    assert.equal(now.id, 'email');
    await page.keyboard.type(resident.email);
    await page.keyboard.press('Tab');
    now = await focused(page);
    assert.equal(now.id, 'password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    now = await focused(page);
    assert.equal(now.text, 'ログインする');
    assert.ok(now.focusVisible, 'the login button does not match :focus-visible');
    assert.equal(now.outlineStyle, 'solid');
    assert.ok(now.outlineWidth >= 2, `the focus outline is ${now.outlineWidth}px`);
    await screenshot(page, 'oidc-login-keyboard-ja');

    await page.keyboard.press('Enter');
    await heading(page, '情報提供の確認');
    await page.keyboard.press('Tab');
    now = await focused(page);
    assert.equal(now.text, '許可する');
    assert.ok(now.focusVisible && now.outlineStyle === 'solid', 'the allow button shows no focus');
    await screenshot(page, 'oidc-consent-keyboard-ja');
    await page.keyboard.press('Enter');
    assert.equal((await arriveAtService(page)).searchParams.get('state'), flow.state);
    await page.context().close();
  });

  it('logs no errors (such as a blocked form or redirect) in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
