/**
 * The consent page of a service that declared what it asks (issue 5, item 8) in real Chromium at a
 * phone's size: the resident reads who gets what for which purpose and how long, grants part of
 * it by ticking and unticking, and lands back at the service; consent's `decide` then allows just
 * that. Japanese, and English with `ui_locales=en`; no serious accessibility violations;
 * screenshots under test-results/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  decide,
  declareServiceRequest,
  definePurpose,
  listConsents,
  type RequestItem,
} from '../../src/consent/index.ts';
import { PURPOSES, SERVICE } from '../identity/purpose-fixtures.ts';
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
import { assertAccessible, browserSuite, launchChromium, phone, screenshot } from './chromium.ts';

const SENDAI = '041009';

const ITEMS: RequestItem[] = [
  {
    category: 'vaccination',
    purpose: 'telemedicine',
    retention: 'P1Y',
    thirdParty: false,
    legalBasis: 'consent',
  },
  {
    category: 'household',
    purpose: 'event-recommendations',
    retention: 'P1Y',
    thirdParty: false,
    legalBasis: 'consent',
  },
  {
    category: 'interests',
    purpose: 'event-recommendations',
    retention: 'P6M',
    thirdParty: true,
    legalBasis: 'consent',
  },
  {
    category: 'pregnancy',
    purpose: 'maternal-child-health',
    retention: 'P5Y',
    thirdParty: false,
    legalBasis: 'statutory-duty',
  },
];

describe('the purpose consent page at a phone size', browserSuite, () => {
  let rig: IdentityRig;
  let rp: Rp;
  let browser: Browser;
  let service: http.Server;
  const problems: string[] = [];

  before(async () => {
    service = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html lang="ja"><head><title>${SERVICE}</title></head><body><h1>ようこそ</h1></body></html>`,
      );
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    rig = await startIdentityRig();
    rp = await relyingParty(rig, { redirectUri: `http://127.0.0.1:${port}/callback`, name: SERVICE });
    await rig.testDb.db.withTenant(SENDAI, async (tx) => {
      for (const purpose of PURPOSES) await definePurpose(tx, SENDAI, purpose);
      await declareServiceRequest(tx, SENDAI, {
        clientId: rp.clientId,
        controller: '仙台市',
        controllerKind: 'municipality',
        items: ITEMS,
      });
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await rig?.close();
    await new Promise((resolve) => service?.close(resolve));
  });

  /** A fresh phone sent by the service, logged in as a new resident; returns it on the consent page. */
  async function atConsent(locale: 'ja' | 'en') {
    const resident = await addResident(rig);
    const flow = await startFlow(rp, locale === 'en' ? { ui_locales: 'en' } : {});
    const context = await browser.newContext({ ...phone, locale: locale === 'en' ? 'en-GB' : 'ja-JP' });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`${page.url()}: ${message.text()}`);
      }
    });
    await page.goto(flow.authorizationUrl);
    const labels =
      locale === 'en'
        ? ['E-mail address', 'Password', 'Log in']
        : ['メールアドレス', 'パスワード', 'ログインする'];
    await page.getByLabel(labels[0] as string, { exact: true }).fill(resident.email);
    await page.getByLabel(labels[1] as string, { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: labels[2], exact: true }).click();
    const title = locale === 'en' ? 'Share your information?' : '情報提供の確認';
    await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
    return { page, flow, resident };
  }

  /**
   * No sideways scrolling, base text of 16px or more, every button, link and checkbox label at
   * least 44px high and whole on the screen (a checkbox is tapped through its label).
   */
  async function assertFitsPhone(page: Page): Promise<void> {
    const layout = await page.evaluate<{ scrollWidth: number; width: number; fontSize: number }>(`({
      scrollWidth: document.documentElement.scrollWidth,
      width: window.innerWidth,
      fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    })`);
    assert.ok(layout.scrollWidth <= layout.width, `page scrolls sideways (${layout.scrollWidth}px)`);
    assert.ok(layout.fontSize >= 16, `base font size is ${layout.fontSize}px`);
    for (const target of await page
      .locator('main button, main a, main label:has(input[type="checkbox"])')
      .all()) {
      const box = await target.boundingBox();
      const name = await target.textContent();
      assert.ok(box && box.height >= 44, `tap target "${name}" is ${box?.height}px high`);
      assert.ok(box.x >= 0 && box.x + box.width <= layout.width, `"${name}" sticks out of the screen`);
    }
  }

  const allow = (resident: string, category: string, purpose: string) =>
    rig.testDb.db.withTenant(
      SENDAI,
      async (tx) =>
        (
          await decide(tx, {
            tenant: SENDAI,
            resident,
            actor: { kind: 'client', clientId: rp.clientId },
            category,
            purpose,
            action: 'read',
          })
        ).allow,
    );

  it('shows the request in Japanese and lets the resident grant part of it by unticking', async () => {
    const { page, flow, resident } = await atConsent('ja');
    assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
    const main = (await page.locator('main').textContent()) ?? '';
    assert.match(main, new RegExp(`「${SERVICE}」（運営：仙台市）は、あなたの情報を次のとおり利用します。`));
    const vaccination = page.getByRole('checkbox', { name: '予防接種記録 要配慮個人情報', exact: true });
    const household = page.getByRole('checkbox', { name: '世帯（お子さまと生年月日）', exact: true });
    const interests = page.getByRole('checkbox', { name: '関心のある分野', exact: true });
    for (const box of [vaccination, household, interests]) {
      assert.equal(await box.isChecked(), false, 'nothing is ticked before the resident acts');
    }
    assert.equal(await page.getByRole('checkbox').count(), 3, 'statutory items have no checkbox');
    const inform = page.getByRole('region', { name: '同意なしで利用される情報' });
    assert.match(
      (await inform.textContent()) ?? '',
      /法令に基づく事務のため、同意なしで利用されます。.*妊娠・出産の情報/,
    );
    await assertFitsPhone(page);
    await assertAccessible(page, 'purpose consent (ja)');
    await screenshot(page, 'purpose-consent-ja');

    // The resident ticks everything, then thinks again about the vaccination records.
    for (const label of ['予防接種記録', '世帯（お子さまと生年月日）', '関心のある分野']) {
      await page.locator('label.check', { hasText: label }).click();
    }
    await vaccination.uncheck();
    assert.deepEqual(
      [await vaccination.isChecked(), await household.isChecked(), await interests.isChecked()],
      [false, true, true],
    );
    await screenshot(page, 'purpose-consent-ja-partial');
    await page.getByRole('button', { name: '同意する', exact: true }).click();
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    const tokens = await exchange(rp, flow, page.url());
    assert.ok(tokens.claims()?.sub);

    assert.equal(await allow(resident.id, 'household', 'event-recommendations'), true);
    assert.equal(await allow(resident.id, 'interests', 'event-recommendations'), true);
    assert.equal(await allow(resident.id, 'vaccination', 'telemedicine'), false);
    assert.equal(
      await allow(resident.id, 'pregnancy', 'maternal-child-health'),
      true,
      'statutory, as declared',
    );
    const [record] = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      listConsents(tx, { tenant: SENDAI, resident: resident.id }),
    );
    assert.equal(record?.subject, tokens.claims()?.sub);
    await page.context().close();
  });

  it('shows the request in English with ui_locales=en, and 同意しない ends the login', async () => {
    const { page, resident } = await atConsent('en');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page
      .getByRole('checkbox', { name: 'Vaccination records Sensitive personal information', exact: true })
      .waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /Kept for: 6 months/);
    await assertFitsPhone(page);
    await assertAccessible(page, 'purpose consent (en)');
    await screenshot(page, 'purpose-consent-en');
    await page.getByRole('button', { name: 'Do not agree', exact: true }).click();
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
    const records = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      listConsents(tx, { tenant: SENDAI, resident: resident.id }),
    );
    assert.deepEqual(records, []);
    await page.context().close();
  });

  it('logs no errors in the browser console', () => {
    assert.deepEqual(problems, []);
  });
});
