/**
 * What the identity page tests share on top of chromium.ts: a fresh phone whose page errors and
 * console errors are collected, the checks that a page fits the phone, and the service a resident
 * comes from and returns to (a page on 127.0.0.1 that records what reached it).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { phone } from './chromium.ts';

/**
 * A fresh phone (no cookies) in `locale`. Uncaught errors and console errors land in `problems`;
 * "Failed to load resource" is left out, since refusals answer 4xx on purpose and are asserted.
 */
export async function newPhone(browser: Browser, problems: string[], locale = 'ja-JP'): Promise<Page> {
  const context = await browser.newContext({ ...phone, locale });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' || message.text().startsWith('Failed to load resource')) return;
    problems.push(`${page.url()}: ${message.text().trim()}`);
  });
  return page;
}

export async function heading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ state: 'visible' });
}

export async function htmlLang(page: Page): Promise<string | null> {
  return page.locator('html').getAttribute('lang');
}

/**
 * No sideways scrolling, base text of 16px or more, and every field, select, button and link at
 * least 44px high and whole on the screen. A checkbox is tapped through its label, so the label is
 * measured instead.
 */
export async function assertFitsPhone(page: Page): Promise<void> {
  const layout = await page.evaluate<{ scrollWidth: number; width: number; fontSize: number }>(`({
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
    fontSize: parseFloat(getComputedStyle(document.body).fontSize),
  })`);
  assert.ok(layout.scrollWidth <= layout.width, `page scrolls sideways (${layout.scrollWidth}px)`);
  assert.ok(layout.fontSize >= 16, `base font size is ${layout.fontSize}px`);
  const targets = page.locator(
    'main button, main input:not([type="hidden"]):not([type="checkbox"]), main select, main a, main label:has(input[type="checkbox"])',
  );
  for (const target of await targets.all()) {
    const box = await target.boundingBox();
    const name = (await target.getAttribute('id')) ?? (await target.textContent());
    assert.ok(box && box.height >= 44, `tap target "${name}" is ${box?.height}px high`);
    assert.ok(box.x >= 0 && box.x + box.width <= layout.width, `"${name}" sticks out of the screen`);
  }
}

export interface Service {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The paths and queries of the requests that reached it. */
  visits: string[];
  close(): Promise<void>;
}

/** The service's pages: a welcome page at every path, whose heading is `ようこそ`. */
export async function startService(name: string): Promise<Service> {
  const visits: string[] = [];
  const server = http.createServer((request, response) => {
    visits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="ja"><head><title>${name}</title></head><body><h1>ようこそ</h1></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    visits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits until the browser has left the provider for `prefix` (the service's callback, say). */
export async function arriveAt(page: Page, prefix: string): Promise<URL> {
  await page
    .waitForURL((url) => url.href.startsWith(prefix), { timeout: 10_000 })
    .catch((error: Error) => {
      assert.fail(
        `the browser did not reach ${prefix} (${error.message.split('\n')[0]}); still at ${page.url()}`,
      );
    });
  return new URL(page.url());
}

/**
 * Logs a resident in to the portal with the common ID and its password, taking "あとで" if a
 * passkey is offered, and waits for My Page.
 */
export async function logInToPortal(
  page: Page,
  baseUrl: string,
  email: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByRole('button', { name: '共通IDでログイン' }).click();
  await page.getByLabel('メールアドレス', { exact: true }).fill(email);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'ログインする', exact: true }).click();
  const later = page.getByRole('button', { name: 'あとで', exact: true });
  const myPage = page.getByRole('heading', { level: 1, name: 'マイページ' });
  await Promise.race([later.waitFor(), myPage.waitFor()]);
  if (await later.isVisible()) await later.click();
  await myPage.waitFor();
}
