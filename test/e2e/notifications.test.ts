/**
 * お知らせ in real Chromium at a phone's size: a resident turns on notifications on this device,
 * sends a test notification (which the Web Push service on 127.0.0.1 receives, checks the VAPID
 * signature of and decrypts), sees new notices unread with their count, marks them read, pages to
 * older ones, and turns notifications off again. Headless Chromium cannot reach a real push service,
 * so the page's PushManager is replaced by one that subscribes to the test's push service, as a
 * browser's would (a P-256 key and an auth secret). Checked with axe-core and at 360 px wide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { notifyResident } from '../../src/delivery/index.ts';
import { type DeliveryRig, eventually, SENDAI, startDeliveryRig } from '../delivery/rig.ts';
import type { BrowserSubscription } from '../helpers/push-service.ts';
import { addResident, PASSWORD } from '../identity/rig.ts';
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';
import { assertFitsPhone, logInToPortal } from './phone-pages.ts';

/**
 * Runs in the page before its own scripts: `subscribe` asks the test (through `machiPushSubscribe`)
 * for a subscription made with the key the page passed; it lasts across reloads, as a browser's does.
 */
const fakePushManager = `(() => {
  const STORE = 'machi.test.push-subscription';
  const b64u = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const unb64u = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const make = (json, key) => ({
    endpoint: json.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: unb64u(key).buffer },
    getKey: (name) => unb64u(json.keys[name]).buffer,
    toJSON: () => JSON.parse(JSON.stringify(json)),
    unsubscribe: async () => {
      localStorage.removeItem(STORE);
      await window.machiPushUnsubscribe(json.endpoint);
      return true;
    },
  });
  PushManager.prototype.subscribe = async function (options) {
    const raw = options.applicationServerKey;
    const key = typeof raw === 'string' ? raw : b64u(new Uint8Array(raw.buffer ?? raw, raw.byteOffset ?? 0, raw.byteLength));
    const json = await window.machiPushSubscribe(key);
    localStorage.setItem(STORE, JSON.stringify({ json, key }));
    return make(json, key);
  };
  PushManager.prototype.getSubscription = async function () {
    const stored = JSON.parse(localStorage.getItem(STORE) ?? 'null');
    return stored ? make(stored.json, stored.key) : null;
  };
})();`;

describe('お知らせ in Chromium: my notices, and notifications on this device', browserSuite, () => {
  let t: DeliveryRig;
  let browser: Browser;
  let page: Page;
  let resident: { id: string; email: string };
  const subscriptions: { key: string; subscription: BrowserSubscription }[] = [];
  const unsubscribed: string[] = [];
  const problems: string[] = [];
  let notices = 0;

  const notify = (title: string, body: string, url?: string) =>
    t.rig.testDb.db.withTenant(SENDAI, (tx) =>
      notifyResident(tx, {
        tenant: SENDAI,
        accountId: resident.id,
        kind: 'epost.letter',
        title,
        body,
        ...(url ? { url } : {}),
        idempotencyKey: `e2e-${++notices}`,
      }),
    );

  /** Chromium's DevTools protocol delivers a push message to the page's service worker. */
  async function deliverToServiceWorker(data: string): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    const registration = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
        const found = event.registrations.find((r) => r.scopeURL === `${t.rig.baseUrl}/` && !r.isDeleted);
        if (found) resolve(found.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const registrationId = await registration;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: t.rig.baseUrl, registrationId, data });
    await cdp.detach();
  }

  before(async () => {
    t = await startDeliveryRig();
    resident = await addResident(t.rig, '上杉 ちよ');
    browser = await launchChromium();
    const context = await browser.newContext(phone);
    await context.grantPermissions(['notifications'], { origin: t.rig.baseUrl });
    await context.exposeFunction('machiPushSubscribe', (key: string) => {
      const subscription = t.push.subscribe(key);
      subscriptions.push({ key, subscription });
      return subscription;
    });
    await context.exposeFunction('machiPushUnsubscribe', (endpoint: string) => {
      unsubscribed.push(endpoint);
    });
    await context.addInitScript(fakePushManager);
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    await logInToPortal(page, t.rig.baseUrl, resident.email, PASSWORD);
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('turns on notifications on this device, and a test notification arrives signed and encrypted', async () => {
    const panel = page.locator('.notifications');
    await panel.getByText('お知らせは、まだありません。').waitFor();
    await panel.getByRole('button', { name: 'この端末で通知を受け取る' }).click();
    await panel.getByText('この端末で通知を受け取れるようになりました。').waitFor();
    await panel.getByText(/この端末で通知を受け取っています（Chrome（.+）/).waitFor();
    assert.equal(subscriptions.length, 1);
    const [{ key, subscription }] = subscriptions as [(typeof subscriptions)[number]];
    const { rows } = await t.rig.testDb.db.query<{ label: string }>(
      'select label from delivery.devices where account_id = $1 and endpoint = $2',
      [resident.id, subscription.endpoint],
    );
    assert.equal(rows.length, 1);
    assert.match(rows[0]?.label ?? '', /^Chrome（/);
    assert.ok(
      await page.evaluate(`navigator.serviceWorker.getRegistration('/').then((r) => r?.active?.scriptURL)`),
    );
    await screenshot(page, 'notifications-push-on-ja');
    await assertAccessible(page, 'notifications, push on (ja)');

    await panel.getByRole('button', { name: 'テスト通知を送る' }).click();
    await panel.getByText('テスト通知を送りました。まもなく、この端末に届きます。').waitFor();
    const [received] = await t.push.waitFor(subscription.endpoint, 1);
    assert.deepEqual(t.push.refused, []);
    assert.ok(received);
    assert.deepEqual(JSON.parse(received.text), {
      kind: 'test',
      title: 'テスト通知',
      body: 'この端末に Machi からのお知らせが届きます。',
      url: '/',
    });
    assert.equal(received.key, key, 'signed with the key the page subscribed with');
    assert.equal(received.claims.aud, t.push.origin);

    // What the push service got, handed to the service worker as the browser would: it shows it.
    await deliverToServiceWorker(received.text);
    const shown = await eventually(async () => {
      const list = await page.evaluate<{ title: string; body: string; data: { url: string } }[]>(
        `navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
          ns.map((n) => ({ title: n.title, body: n.body, data: n.data })))`,
      );
      return list.length > 0 ? list : undefined;
    });
    assert.deepEqual(shown, [
      {
        title: 'テスト通知',
        body: 'この端末に Machi からのお知らせが届きます。',
        data: { url: `${t.rig.baseUrl}/` },
      },
    ]);
  });

  it('shows new notices unread, newest first, with the count, and marks them read', async () => {
    await notify('市県民税の通知書が届きました', '電子郵便ポストに 1 通の郵便があります。', '/letters/1');
    await notify(
      'ごみ収集日の変更',
      '年末年始は収集日が変わります。\n くわしくは市のホームページをご覧ください。',
    );
    await page.reload();
    const panel = page.locator('.notifications');
    await panel.getByRole('heading', { level: 2, name: /^お知らせ\s*未読 2件$/ }).waitFor();
    const items = panel.locator('.notification');
    assert.equal(await items.count(), 2);
    const first = items.nth(0);
    assert.match(
      (await first.textContent()) ?? '',
      /^未読\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}仙台市からごみ収集日の変更/,
    );
    assert.match((await items.nth(1).textContent()) ?? '', /市県民税の通知書が届きました/);
    assert.equal(
      await items.nth(1).getByRole('link', { name: 'くわしく見る' }).getAttribute('href'),
      '/letters/1',
    );
    // Each notice is also pushed to this device.
    const pushed = await t.push.waitFor(subscriptions[0]?.subscription.endpoint ?? '', 3);
    assert.deepEqual(
      pushed
        .slice(1)
        .map((p) => (JSON.parse(p.text) as { title: string }).title)
        .sort(),
      ['ごみ収集日の変更', '市県民税の通知書が届きました'].sort(),
    );
    await screenshot(page, 'notifications-unread-ja');
    await assertAccessible(page, 'notifications, unread (ja)');
    await page.setViewportSize({ width: 360, height: 780 });
    await assertFitsPhone(page);
    await page.setViewportSize({ width: 390, height: 844 });

    await first.getByRole('button', { name: '既読にする' }).click();
    await panel.getByRole('heading', { level: 2, name: /^お知らせ\s*未読 1件$/ }).waitFor();
    assert.match((await first.textContent()) ?? '', /^既読/);
    await panel.getByRole('button', { name: 'すべて既読にする' }).click();
    await panel.getByText('すべて既読にしました。').waitFor();
    await panel.getByRole('heading', { level: 2, name: 'お知らせ', exact: true }).waitFor();
    assert.equal(await panel.getByText('未読', { exact: true }).count(), 0);
    await page.reload();
    await panel.getByRole('heading', { level: 2, name: 'お知らせ', exact: true }).waitFor();
    await panel.locator('.notification').first().waitFor();
    assert.equal(await panel.getByRole('button', { name: '既読にする' }).count(), 0);
    await screenshot(page, 'notifications-read-ja');
  });

  it('shows older notices with もっと見る', async () => {
    for (let n = 1; n <= 20; n++) await notify(`お知らせ ${n}`, `本文 ${n}`);
    await page.reload();
    const panel = page.locator('.notifications');
    await panel.getByRole('heading', { level: 2, name: /^お知らせ\s*未読 20件$/ }).waitFor();
    assert.equal(await panel.locator('.notification').count(), 20);
    await panel.getByRole('button', { name: 'もっと見る' }).click();
    await panel.locator('.notification').nth(21).waitFor();
    assert.equal(await panel.locator('.notification').count(), 22);
    assert.match(
      (await panel.locator('.notification').last().textContent()) ?? '',
      /市県民税の通知書が届きました/,
    );
    assert.equal(await panel.getByRole('button', { name: 'もっと見る' }).count(), 0);
  });

  it('stops notifications on this device: unsubscribed in the browser and the device removed', async () => {
    const panel = page.locator('.notifications');
    await panel.getByRole('button', { name: 'この端末の通知をやめる' }).click();
    await panel.getByText('この端末の通知をやめました。').waitFor();
    await panel.getByRole('button', { name: 'この端末で通知を受け取る' }).waitFor();
    assert.deepEqual(unsubscribed, [subscriptions[0]?.subscription.endpoint]);
    const { rows } = await t.rig.testDb.db.query('select 1 from delivery.devices where account_id = $1', [
      resident.id,
    ]);
    assert.equal(rows.length, 0);
    await screenshot(page, 'notifications-push-off-ja');
    await assertAccessible(page, 'notifications, push off (ja)');
    assert.deepEqual(problems, []);
  });

  it('stops notifications on this device when the resident logs out, so the next person sees none', async () => {
    const panel = page.locator('.notifications');
    await panel.getByRole('button', { name: 'この端末で通知を受け取る' }).click();
    await panel.getByText(/この端末で通知を受け取っています/).waitFor();
    const endpoint = subscriptions.at(-1)?.subscription.endpoint as string;
    await page.getByRole('button', { name: 'ログアウト', exact: true }).click();
    await page.waitForURL(/\/oidc\/session\/end/);
    assert.ok(unsubscribed.includes(endpoint), 'the browser subscription ended');
    const { rows } = await t.rig.testDb.db.query('select 1 from delivery.devices where account_id = $1', [
      resident.id,
    ]);
    assert.equal(rows.length, 0, "the device is gone from the resident's devices");
  });
});
