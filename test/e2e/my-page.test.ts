/**
 * Issue 5's end-to-end proof in real Chromium at a phone's size: a telemedicine service (a relying
 * party on 127.0.0.1) asks for a child's vaccination records; the parent consents on the consent
 * screen; the service reads them through the NGSI-LD API; the parent logs in to the portal (single
 * sign-on, no password again), sees the service and the read on My Page, and withdraws; the
 * service's next read is refused. Screenshots under test-results/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { markEntityTypes, residentImporter } from '../../src/broker/index.ts';
import { declareServiceRequest, definePurpose, listAccessLog, mapCategory } from '../../src/consent/index.ts';
import { brokerResource } from '../../src/identity/index.ts';
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
const CLINIC = '仙台こどもオンライン診療';
const RECORD = 'urn:ngsi-ld:VaccinationRecord:e2e-child';

describe('My Page in Chromium: consent, the data tracker and withdrawal', browserSuite, () => {
  let rig: IdentityRig;
  let clinic: Rp;
  let service: http.Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let parent: { id: string; email: string };
  let clinicToken: string;
  const problems: string[] = [];

  const read = (token: string) =>
    fetch(`${rig.baseUrl}/ngsi-ld/v1/entities/${encodeURIComponent(RECORD)}`, {
      headers: { authorization: `Bearer ${token}`, 'ngsild-tenant': SENDAI, 'machi-purpose': 'telemedicine' },
    });

  before(async () => {
    service = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html lang="ja"><head><title>${CLINIC}</title></head><body><h1>ようこそ</h1></body></html>`,
      );
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const { port } = service.address() as AddressInfo;
    rig = await startIdentityRig();
    const db = rig.testDb.db;
    clinic = await relyingParty(rig, { redirectUri: `http://127.0.0.1:${port}/callback`, name: CLINIC });
    await markEntityTypes(db, SENDAI, { personal: ['VaccinationRecord'] });
    await db.withTenant(SENDAI, async (tx) => {
      await definePurpose(tx, SENDAI, {
        id: 'telemedicine',
        nameJa: '医療相談',
        nameEn: 'Medical consultation',
        descriptionJa: '夜間・休日のオンライン診療で、お子さまの予防接種歴を確認します。',
        descriptionEn: 'Checking your child’s vaccinations in a night or holiday online consultation.',
      });
      await mapCategory(tx, SENDAI, { entityType: 'VaccinationRecord', category: 'vaccination' });
      await declareServiceRequest(tx, SENDAI, {
        clientId: clinic.clientId,
        controller: '医療法人 仙台こどもクリニック',
        controllerKind: 'private',
        items: [
          {
            category: 'vaccination',
            purpose: 'telemedicine',
            retention: 'P30D',
            thirdParty: true,
            legalBasis: 'consent',
          },
        ],
      });
    });
    parent = await addResident(rig, '青葉 花子');
    // The child's record, as the handbook app wrote it for the parent.
    await residentImporter(db, rig.keys, { contextTimeoutMs: 5000, contextMaxBytes: 1 << 20 })(
      SENDAI,
      parent.id,
      [{ id: RECORD, type: 'VaccinationRecord', vaccine: { type: 'Property', value: 'BCG' } }],
    );
    browser = await launchChromium();
    context = await browser.newContext(phone);
    page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  });

  after(async () => {
    await browser?.close();
    await rig?.close();
    await new Promise((resolve) => service?.close(resolve));
  });

  it('the parent consents on the consent screen and the clinic reads the record', async () => {
    const flow = await startFlow(clinic, { resource: brokerResource(rig.baseUrl), scope: 'openid ngsi-ld' });
    await page.goto(flow.authorizationUrl);
    await page.getByLabel('メールアドレス', { exact: true }).fill(parent.email);
    await page.getByLabel('パスワード', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'ログインする', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '情報提供の確認', exact: true }).waitFor();
    await page.locator('label.check', { hasText: '予防接種記録' }).click();
    await page.getByRole('button', { name: '同意する', exact: true }).click();
    await page.waitForURL((url) => url.href.startsWith(clinic.redirectUri));
    clinicToken = (await exchange(clinic, flow, page.url())).access_token;
    const response = await read(clinicToken);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(((await response.json()) as { vaccine: { value: string } }).vaccine.value, 'BCG');
  });

  it('shows the parent, on My Page, the clinic and its read in plain Japanese', async () => {
    await page.goto(`${rig.baseUrl}/`);
    await page.getByRole('button', { name: '共通IDでログイン' }).click();
    // Single sign-on: the session from the clinic's login lets the parent in without a password.
    await page.getByRole('heading', { level: 1, name: 'マイページ' }).waitFor();
    assert.equal(new URL(page.url()).search, '', 'the code is gone from the address bar');
    assert.match((await page.locator('.intro .lead').textContent()) ?? '', /青葉 花子 さん、こんにちは。/);
    const consent = page.locator('.consent', { hasText: CLINIC });
    await consent.waitFor();
    const card = (await consent.textContent()) ?? '';
    assert.match(card, /運営：医療法人 仙台こどもクリニック/);
    assert.match(card, /予防接種記録要配慮個人情報/);
    assert.match(card, /目的：医療相談（保存期間：30日）/);
    assert.match(card, /第三者提供/);
    const entry = page.locator('.tracker__entry').first();
    await entry.waitFor();
    assert.match(
      (await entry.textContent()) ?? '',
      new RegExp(
        `^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} ${CLINIC} が 予防接種記録 を 閲覧しました（目的: 医療相談）$`,
      ),
    );
    assert.match(
      (await page.locator('.provisions').textContent()) ?? '',
      new RegExp(`${CLINIC}（医療法人 仙台こどもクリニック）に 予防接種記録 を提供しました`),
    );
    await screenshot(page, 'my-page-ja');
    await assertAccessible(page, 'my page (ja)');
  });

  it('downloads the signed consent receipt', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .locator('.consent', { hasText: CLINIC })
        .getByRole('button', { name: '同意の証明書をダウンロード' })
        .click(),
    ]);
    assert.match(download.suggestedFilename(), /^consent-receipt-[0-9a-f-]{36}\.jwt$/);
  });

  it('withdraws in two steps, after which the clinic reads nothing', async () => {
    const consent = page.locator('.consent', { hasText: CLINIC });
    await consent.getByRole('button', { name: '同意をやめる' }).click();
    const confirm = consent.locator('fieldset.confirm');
    assert.match((await confirm.textContent()) ?? '', /「仙台こどもオンライン診療」への同意をやめますか？/);
    await screenshot(page, 'my-page-withdraw-confirm-ja');
    await assertAccessible(page, 'my page withdrawal (ja)');
    await confirm.getByRole('button', { name: '同意をやめる' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `「${CLINIC}」への同意をやめました。` })
      .waitFor();
    assert.equal(await page.locator('.consent', { hasText: CLINIC }).count(), 0);
    assert.equal((await read(clinicToken)).status, 401, 'the clinic token went with the consent');
    const log = await rig.testDb.db.withTenant(SENDAI, (tx) => listAccessLog(tx, SENDAI, parent.id));
    assert.equal(
      log.filter((r) => r.decision === 'allow').length,
      1,
      'nothing was read after the withdrawal',
    );
    assert.deepEqual(
      [log[0]?.decision, log[0]?.reason],
      ['deny', 'consent-withdrawn'],
      'the attempt is logged',
    );
    // The parent sees the refused attempt on My Page.
    await page.reload();
    const refused = page.locator('.tracker__entry--deny').first();
    await refused.waitFor();
    assert.match(
      (await refused.textContent()) ?? '',
      new RegExp(`${CLINIC} が 予防接種記録 を 閲覧しようとしましたが、お断りしました`),
    );
    await screenshot(page, 'my-page-withdrawn-ja');
  });

  it('agrees again from My Page on the same consent screen, ticking the item', async () => {
    await page.locator('.consent-history summary').click();
    await page.getByRole('button', { name: 'もう一度同意する' }).click();
    const editor = page.locator('form.consent-editor');
    await editor.waitFor();
    const box = editor.getByRole('checkbox', { name: /予防接種記録/ });
    assert.equal(await box.isChecked(), false, 'nothing is ticked that is not granted');
    assert.match((await editor.textContent()) ?? '', /目的：医療相談（保存期間：30日）/);
    await box.check();
    await screenshot(page, 'my-page-consent-editor-ja');
    await assertAccessible(page, 'my page consent editor (ja)');
    await editor.getByRole('button', { name: 'この内容で同意する' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `「${CLINIC}」への同意を記録しました。` })
      .waitFor();
    await page.locator('.consent', { hasText: CLINIC }).waitFor();
    assert.deepEqual(problems, []);
  });
});
