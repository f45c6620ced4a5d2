/**
 * The web shell (portal, staff console, dashboard) in real Chromium at a phone's size, served by the
 * real app: Japanese first, English on request, the tenant list from the API, and no serious
 * accessibility violations. Screenshots are saved under test-results/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.ts';
import { assertAccessible, browserSuite, launchChromium, screenshot } from './chromium.ts';

/** A mid-range phone: 390×844 CSS pixels, Japanese locale. */
const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
};

describe('web shell at a phone size', browserSuite, () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /**
   * A fresh phone (own storage) opened at `path`; `prepare` runs before the page loads.
   * Uncaught script errors are collected for the last test.
   */
  async function open(
    path: string,
    options: BrowserContextOptions = {},
    prepare?: (page: Page) => Promise<unknown>,
  ): Promise<Page> {
    const context = await browser.newContext({ ...phone, ...options });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
    await prepare?.(page);
    await goto(page, path);
    return page;
  }

  async function goto(page: Page, path: string): Promise<void> {
    const response = await page.goto(new URL(path, server.baseUrl).href);
    assert.equal(response?.status(), 200, `GET ${path} answered ${response?.status()}`);
  }

  async function heading(page: Page, name: string, level = 1): Promise<void> {
    await page.getByRole('heading', { level, name, exact: true }).waitFor({ state: 'visible' });
  }

  /** The element's text (its DOM text content; '' when it has none). */
  async function textOf(locator: Locator): Promise<string> {
    return (await locator.textContent()) ?? '';
  }

  async function htmlLang(page: Page): Promise<string | null> {
    return page.locator('html').getAttribute('lang');
  }

  /** Mobile-first basics: no sideways scrolling, readable base text, tap targets of at least 44px. */
  async function assertFitsPhone(page: Page): Promise<void> {
    const layout = await page.evaluate<{ scrollWidth: number; width: number; fontSize: number }>(`({
      scrollWidth: document.documentElement.scrollWidth,
      width: window.innerWidth,
      fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    })`);
    assert.ok(layout.scrollWidth <= layout.width, `page scrolls sideways (${layout.scrollWidth}px)`);
    assert.ok(layout.fontSize >= 16, `base font size is ${layout.fontSize}px`);
    for (const target of await page.locator('main button, header a, header button, footer a').all()) {
      const box = await target.boundingBox();
      assert.ok(
        box && box.height >= 44,
        `tap target "${await target.textContent()}" is ${box?.height}px high`,
      );
    }
  }

  it('shows the resident portal in Japanese with the login notice and the service cards', async () => {
    const page = await open('/');
    await heading(page, 'マチ 住民ポータル');
    assert.equal(await htmlLang(page), 'ja');
    assert.equal(await page.title(), '住民ポータル | マチ');

    const login = page.getByRole('button', { name: '共通IDでログイン' });
    assert.equal(await login.getAttribute('aria-disabled'), null);
    assert.match(await textOf(page.locator('#login-note')), /マイページで、あなたの情報を使っているサービス/);
    for (const service of ['My手続き', '電子郵便ポスト', 'Myカレンダー', 'お知らせ']) {
      await heading(page, service, 3);
    }

    const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
    assert.equal(manifestHref, '/manifest.webmanifest');
    const manifest = await (await page.request.get(new URL(manifestHref, server.baseUrl).href)).json();
    assert.equal(manifest.name, 'マチ');
    assert.equal(manifest.lang, 'ja');
    assert.equal(manifest.start_url, '/');

    await assertFitsPhone(page);
    await screenshot(page, 'portal-ja');
    await assertAccessible(page, 'portal (ja)');

    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement.textContent'), '本文へ移動');
    await page.context().close();
  });

  it('switches to English, sets <html lang="en"> and keeps the choice on the other pages', async () => {
    const page = await open('/');
    await heading(page, 'マチ 住民ポータル');
    await page.getByRole('button', { name: 'English' }).click();

    await heading(page, 'Machi Resident Portal');
    assert.equal(await htmlLang(page), 'en');
    assert.equal(await page.title(), 'Resident portal | Machi');
    assert.equal(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate<string | null>(`localStorage.getItem('machi.lang')`), 'en');
    await assertFitsPhone(page);
    await screenshot(page, 'portal-en');
    await assertAccessible(page, 'portal (en)');

    await goto(page, '/console');
    await heading(page, 'Staff console');
    assert.equal(await htmlLang(page), 'en');
    await screenshot(page, 'console-en');

    await page.getByRole('button', { name: '日本語' }).click();
    await heading(page, '職員コンソール');
    assert.equal(await htmlLang(page), 'ja');
    await page.context().close();
  });

  it('shows the staff console as a sign-in for a chosen municipality, and nothing more before it', async () => {
    const page = await open('/console');
    await heading(page, '職員コンソール');
    assert.equal(await htmlLang(page), 'ja');
    await heading(page, 'サインイン', 2);
    const choice = page.getByLabel('自治体');
    assert.ok((await choice.locator('option').allInnerTexts()).includes('仙台市（041009）'));
    await page.getByRole('button', { name: 'サインインする' }).waitFor();
    assert.equal(
      await page.getByRole('navigation', { name: 'メニュー' }).count(),
      0,
      'no work sections before sign-in',
    );

    await assertFitsPhone(page);
    await screenshot(page, 'console-ja');
    await assertAccessible(page, 'console (ja)');

    // With a trailing slash too: asset paths are absolute, so the page still loads its scripts.
    await goto(page, '/console/');
    await heading(page, '職員コンソール');
    await page.context().close();
  });

  it('lists the participating municipalities from the API under their prefecture, with dates in JST', async () => {
    // A phone set to California time still reads Japan time: 15:30 UTC is 0:30 the next day in JST.
    const page = await open('/dashboard', { timezoneId: 'America/Los_Angeles' }, (page) =>
      page.clock.setFixedTime(new Date('2025-04-01T15:30:00Z')),
    );
    await heading(page, 'オープンデータ ダッシュボード');

    const miyagi = page.getByRole('region', { name: '宮城県' });
    await miyagi.waitFor();
    assert.match(await textOf(miyagi), /全国地方公共団体コード 040002/);
    const sendai = miyagi.getByRole('row', { name: /仙台市/ });
    assert.equal(await sendai.getByRole('cell').textContent(), '041009');
    assert.match(await textOf(page.locator('main')), /2025年4月2日 0:30（日本時間）時点/);

    await assertFitsPhone(page);
    await screenshot(page, 'dashboard-ja');
    await assertAccessible(page, 'dashboard (ja)');

    await page.getByRole('button', { name: 'English' }).click();
    await heading(page, 'Open data dashboard');
    const miyagiEn = page.getByRole('region', { name: 'Miyagi Prefecture' });
    assert.equal(
      await miyagiEn
        .getByRole('row', { name: /Sendai City/ })
        .getByRole('cell')
        .textContent(),
      '041009',
    );
    assert.match(await textOf(page.locator('main')), /As of 2 April 2025 at 00:30 \(Japan time\)/);
    await screenshot(page, 'dashboard-en');
    await assertAccessible(page, 'dashboard (en)');
    await page.context().close();
  });

  it('apologises and offers a retry when the tenant list cannot be loaded', async () => {
    const page = await open('/dashboard', {}, (page) =>
      page.route('**/api/v1/tenants', (route) =>
        route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{"status":503}' }),
      ),
    );

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await textOf(alert), /参加自治体の一覧を読み込めませんでした/);
    await assertFitsPhone(page);
    await screenshot(page, 'dashboard-error-ja');
    await assertAccessible(page, 'dashboard error (ja)');

    await page.unroute('**/api/v1/tenants');
    await page.getByRole('button', { name: 'もう一度読み込む' }).click();
    await page.getByRole('region', { name: '宮城県' }).waitFor();
    await page.context().close();
  });

  it('raises no script errors on any page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
