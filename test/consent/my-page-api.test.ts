/**
 * The resident's own API behind My Page, through the real portal login: a parent sees the
 * consents they gave (with a signed receipt that verifies against the published JWKS), every use of
 * their child's vaccination record in plain Japanese, the provisions to third parties; withdraws
 * the clinic's consent, after which the clinic's token and data are gone; downloads everything;
 * stops a service; erases their data, keeping what a law keeps and saying why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { markEntityTypes } from '../../src/broker/index.ts';
import {
  declareServiceRequest,
  defineLegalHold,
  definePurpose,
  listAccessLog,
  mapCategory,
  type RequestItem,
} from '../../src/consent/index.ts';
import { brokerResource } from '../../src/identity/index.ts';
import {
  addResident,
  Browser,
  consentIfAsked,
  exchange,
  type IdentityRig,
  loginAndConsent,
  myPageToken,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from '../identity/rig.ts';

const SENDAI = '041009';
const RECORD = 'urn:ngsi-ld:VaccinationRecord:mypage-child-1';
const NOTE = 'urn:ngsi-ld:GrowthNote:mypage-child-1';

type Json = Record<string, unknown>;

describe('My Page API: consents, data tracker and the rights of 個人情報保護法', () => {
  let rig: IdentityRig;
  let handbook: Rp;
  let clinic: Rp;
  let parent: { id: string; email: string };
  let other: { id: string; email: string };
  const browser = new Browser();
  let me: string;
  let handbookToken: string;
  let clinicToken: string;

  const brokerToken = async (rp: Rp, items: string[], first: boolean) => {
    const flow = await startFlow(rp, {
      resource: brokerResource(rig.baseUrl),
      scope: 'openid ngsi-ld',
      ...(first ? {} : { prompt: 'consent' }),
    });
    const at = await browser.follow(flow.authorizationUrl, rp.redirectUri);
    const back = first
      ? await loginAndConsent(browser, rig.baseUrl, rp, parent.email, undefined, items)
      : await consentIfAsked(browser, rig.baseUrl, rp, at, items);
    return (await exchange(rp, flow, back)).access_token;
  };

  const broker = (token: string, path: string, init: { method?: string; body?: unknown; purpose: string }) =>
    fetch(`${rig.baseUrl}/ngsi-ld/v1/${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        'ngsild-tenant': SENDAI,
        'machi-purpose': init.purpose,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });

  const api = (path: string, init: { method?: string; token?: string } = {}) =>
    fetch(`${rig.baseUrl}/api/v1/me${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? me}` },
    });
  const json = async (path: string, init: { method?: string } = {}) => {
    const response = await api(path, init);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Json;
  };

  before(async () => {
    rig = await startIdentityRig();
    const db = rig.testDb.db;
    handbook = await relyingParty(rig, {
      name: '仙台母子手帳アプリ',
      redirectUri: 'http://127.0.0.1:9/handbook/cb',
    });
    clinic = await relyingParty(rig, {
      name: '仙台こどもオンライン診療',
      redirectUri: 'http://127.0.0.1:9/clinic/cb',
    });
    await markEntityTypes(db, SENDAI, { personal: ['VaccinationRecord', 'GrowthNote'] });
    await db.withTenant(SENDAI, async (tx) => {
      await definePurpose(tx, SENDAI, {
        id: 'child-rearing',
        nameJa: '子育て支援',
        nameEn: 'Child-rearing support',
        descriptionJa: '母子手帳の記録',
        descriptionEn: 'Handbook records',
      });
      await definePurpose(tx, SENDAI, {
        id: 'telemedicine',
        nameJa: '医療相談',
        nameEn: 'Medical consultation',
        descriptionJa: 'オンライン診療',
        descriptionEn: 'Online consultation',
        dpv: 'dpv:ServiceProvision',
      });
      await mapCategory(tx, SENDAI, { entityType: 'VaccinationRecord', category: 'vaccination' });
      await mapCategory(tx, SENDAI, { entityType: 'GrowthNote', category: 'health' });
      const item = (category: string, purpose: string, more: Partial<RequestItem> = {}): RequestItem => ({
        category,
        purpose,
        retention: 'P1Y',
        thirdParty: false,
        actions: ['read', 'write'],
        legalBasis: 'consent',
        ...more,
      });
      await declareServiceRequest(tx, SENDAI, {
        clientId: handbook.clientId,
        controller: '母子手帳アプリ株式会社',
        controllerKind: 'private',
        items: [item('vaccination', 'child-rearing'), item('health', 'child-rearing')],
      });
      await declareServiceRequest(tx, SENDAI, {
        clientId: clinic.clientId,
        controller: '医療法人 仙台こどもクリニック',
        controllerKind: 'private',
        items: [
          item('vaccination', 'telemedicine', { actions: ['read'], thirdParty: true, retention: 'P30D' }),
        ],
      });
      // 予防接種法: the municipality keeps vaccination records (予防接種台帳) for five years.
      await defineLegalHold(tx, SENDAI, {
        entityType: 'VaccinationRecord',
        lawJa: '予防接種法施行令 第6条の2（予防接種に関する記録の保存 5年）',
        lawEn: 'Immunization Act Enforcement Order, art. 6-2 (records kept five years)',
        period: 'P5Y',
      });
    });
    parent = await addResident(rig, '青葉 花子');
    other = await addResident(rig, '宮城野 太郎');
    handbookToken = await brokerToken(handbook, ['vaccination:child-rearing', 'health:child-rearing'], true);
    clinicToken = await brokerToken(clinic, ['vaccination:telemedicine'], false);
    for (const body of [
      { id: RECORD, type: 'VaccinationRecord', vaccine: { type: 'Property', value: 'BCG' } },
      { id: NOTE, type: 'GrowthNote', heightCm: { type: 'Property', value: 76.5 } },
    ]) {
      const created = await broker(handbookToken, 'entities', {
        method: 'POST',
        body,
        purpose: 'child-rearing',
      });
      assert.equal(created.status, 201, await created.text());
    }
    const read = await broker(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' });
    assert.equal(read.status, 200, await read.text());
    me = await myPageToken(rig, browser, parent.email);
  });
  after(() => rig?.close());

  it('opens only with the portal token for this API, and names its realm', async () => {
    const none = await fetch(`${rig.baseUrl}/api/v1/me`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="machi-me"/);
    const serviceToken = await api('', { token: handbookToken });
    assert.equal(serviceToken.status, 403, 'a service token for the broker is not the resident');
    const forged = await api('', { token: 'not-a-token' });
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('shows who I am and where I live', async () => {
    const who = await json('');
    assert.equal(who.displayName, '青葉 花子');
    assert.deepEqual(who.homeMunicipality, { code: SENDAI, name: '仙台市', nameEn: 'Sendai City' });
  });

  it('lists my consents in plain names, with the terms of each item', async () => {
    const { consents } = (await json('/consents')) as { consents: Json[] };
    const clinicConsent = consents.find((c) => (c.service as Json).clientId === clinic.clientId);
    assert.ok(clinicConsent);
    assert.equal((clinicConsent.service as Json).name, '仙台こどもオンライン診療');
    assert.equal(clinicConsent.controller, '医療法人 仙台こどもクリニック');
    assert.equal(clinicConsent.state, 'given');
    assert.deepEqual(clinicConsent.items, [
      {
        category: 'vaccination',
        categoryName: '予防接種記録',
        sensitive: true,
        purpose: 'telemedicine',
        purposeName: '医療相談',
        retention: 'P30D',
        thirdParty: true,
        actions: ['read'],
      },
    ]);
    const english = (await json('/consents?lang=en')) as { consents: Json[] };
    assert.ok(JSON.stringify(english.consents).includes('Vaccination records'));
  });

  it("shows each use of my child's record as a sentence, and provisions to third parties", async () => {
    const { entries } = (await json('/access-log')) as { entries: Json[] };
    assert.match(
      String(entries[0]?.text),
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} 仙台こどもオンライン診療 が 予防接種記録 を 閲覧しました（目的: 医療相談）$/,
    );
    assert.ok(
      entries.some((e) => /仙台母子手帳アプリ が .*を 更新しました（目的: 子育て支援）/.test(String(e.text))),
    );
    const { provisions } = (await json('/third-party-provisions')) as { provisions: Json[] };
    assert.equal(provisions.length, 1, 'the handbook is no third party; the clinic is');
    assert.equal(provisions[0]?.recipient, '仙台こどもオンライン診療');
    assert.deepEqual(provisions[0]?.categories, ['予防接種記録']);
    assert.deepEqual(provisions[0]?.entities, [RECORD]);
  });

  it('gives a consent receipt signed with the key the provider publishes', async () => {
    const { consents } = (await json('/consents')) as { consents: Json[] };
    const id = String(consents.find((c) => (c.service as Json).clientId === clinic.clientId)?.id);
    const response = await api(`/consents/${id}/receipt`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/jwt/);
    const receipt = await response.text();
    assert.equal(decodeProtectedHeader(receipt).typ, 'consent-receipt+jwt');
    const jwks = createRemoteJWKSet(new URL(`${rig.issuer}/jwks`));
    const { payload } = await jwtVerify(receipt, jwks, { issuer: rig.issuer, typ: 'consent-receipt+jwt' });
    assert.equal(payload.jti, id);
    assert.notEqual(payload.sub, parent.id, 'the receipt names me as the service knows me (pairwise)');
    assert.deepEqual((payload.recipient as Json).clientId, clinic.clientId);
    assert.equal(((payload.items as Json[])[0] as Json).purposeName, '医療相談');
    const altered = `${receipt.split('.')[0]}.${Buffer.from(JSON.stringify({ ...payload, items: [] })).toString('base64url')}.${receipt.split('.')[2]}`;
    await assert.rejects(jwtVerify(altered, jwks), /signature verification failed/);
    assert.equal((await api('/consents/00000000-0000-4000-8000-000000000000/receipt')).status, 404);
  });

  it("does not show me another resident's consent, nor let me withdraw it", async () => {
    const otherBrowser = new Browser();
    const theirs = await myPageToken(rig, otherBrowser, other.email);
    const { consents } = (await json('/consents')) as { consents: Json[] };
    const mine = String(consents[0]?.id);
    const listed = (await (await api('/consents', { token: theirs })).json()) as { consents: Json[] };
    assert.deepEqual(listed.consents, []);
    assert.equal((await api(`/consents/${mine}/withdrawal`, { method: 'POST', token: theirs })).status, 404);
    assert.equal((await api(`/consents/${mine}/receipt`, { token: theirs })).status, 404);
  });

  it("withdraws the clinic's consent at once: its token stops working and it reads nothing more", async () => {
    const { consents } = (await json('/consents')) as { consents: Json[] };
    const id = String(consents.find((c) => (c.service as Json).clientId === clinic.clientId)?.id);
    const withdrawn = await json(`/consents/${id}/withdrawal`, { method: 'POST' });
    assert.deepEqual(withdrawn, { withdrawn: [id], services: [clinic.clientId] });
    const read = await broker(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' });
    assert.equal(read.status, 401, 'the grant and its tokens went with the consent');
    assert.match(read.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const { entries } = (await json('/access-log')) as { entries: Json[] };
    assert.match(
      String(entries[0]?.text),
      /仙台こどもオンライン診療 が 予防接種記録 を 閲覧しようとしましたが、お断りしました（目的: 医療相談）$/,
      'the attempt with the withdrawn token is in the tracker',
    );
    const unrelated = await broker(clinicToken, 'entities?type=Shelter', { purpose: 'telemedicine' });
    assert.equal(unrelated.status, 401);
    assert.equal(
      ((await json('/access-log')) as { entries: Json[] }).entries.length,
      entries.length,
      'only uses of my data are logged',
    );
    const after_ = (await json('/consents')) as { consents: Json[] };
    assert.equal(after_.consents.find((c) => c.id === id)?.state, 'withdrawn');
    // Logging in to the clinic again asks again, and without a tick it still reads nothing.
    clinicToken = await brokerToken(clinic, [], false);
    const again = await broker(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' });
    assert.equal(again.status, 404);
    const log = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      listAccessLog(tx, SENDAI, parent.id, { limit: 1 }),
    );
    assert.equal(log[0]?.decision, 'deny');
    assert.equal(log[0]?.actor.id, clinic.clientId);
    assert.equal((await api(`/consents/${id}/withdrawal`, { method: 'POST', token: 'x' })).status, 401);
  });

  it('asks again from My Page with the same words as the consent screen, and records the answer', async () => {
    const asked = await json(`/services/${clinic.clientId}/request`);
    assert.equal(asked.serviceName, '仙台こどもオンライン診療');
    assert.equal(asked.controller, '医療法人 仙台こどもクリニック');
    const item = (asked.asked as Json[])[0] as Json;
    assert.deepEqual(
      [item.key, item.categoryName, item.sensitive, item.purposeName, item.thirdParty, item.granted],
      ['vaccination:telemedicine', '予防接種記録', true, '医療相談', true, false],
    );
    assert.match(String(asked.text), /仙台こどもオンライン診療/);
    const put = (body: unknown) =>
      fetch(`${rig.baseUrl}/api/v1/me/services/${clinic.clientId}/consent`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${me}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const stale = await put({
      version: asked.version,
      shown: '0'.repeat(64),
      items: ['vaccination:telemedicine'],
    });
    assert.equal(stale.status, 409, 'an answer to words not shown is refused');
    const unknown = await put({ version: asked.version, shown: asked.shown, items: ['health:telemedicine'] });
    assert.equal(unknown.status, 400);
    assert.equal((await broker(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 404);
    const granted = await put({
      version: asked.version,
      shown: asked.shown,
      items: ['vaccination:telemedicine'],
    });
    assert.equal(granted.status, 200, await granted.clone().text());
    assert.deepEqual(((await granted.json()) as Json).granted, ['vaccination:telemedicine']);
    const read = await broker(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' });
    assert.equal(
      read.status,
      200,
      `the grant takes effect on the next request: ${await read.clone().text()}`,
    );
    const again = await json(`/services/${clinic.clientId}/request`);
    assert.equal(((again.asked as Json[])[0] as Json).granted, true);
    assert.equal((await api('/services/no-such-service/request')).status, 404);
  });

  it('downloads everything held about me, as JSON and as a readable report', async () => {
    const response = await api('/export');
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get('content-disposition') ?? '',
      /attachment; filename="machi-my-data-\d{4}-\d{2}-\d{2}\.json"/,
    );
    const doc = (await response.json()) as { account: Json; municipalities: Json[] };
    assert.equal(doc.account.displayName, '青葉 花子');
    const sendai = doc.municipalities.find((m) => m.code === SENDAI) as Json;
    const ids = (sendai.personalData as Json[]).map((e) => e.id).sort();
    assert.deepEqual(ids, [NOTE, RECORD]);
    assert.equal(
      (((sendai.personalData as Json[]).find((e) => e.id === RECORD) ?? {}).vaccine as Json | undefined)
        ?.value,
      'BCG',
    );
    assert.ok((sendai.consents as Json[]).length >= 2);
    assert.ok((sendai.accessLog as Json[]).length >= 3);
    assert.equal((sendai.thirdPartyProvisions as Json[]).length, 2, "the clinic's two reads");
    const html = await api('/export?format=html');
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    const page = await html.text();
    assert.match(page, /<h1>マチが保有するあなたの情報<\/h1>/);
    assert.match(page, /仙台こどもオンライン診療 が 予防接種記録 を 閲覧しました/);
    assert.ok(!page.includes('<script'), 'the report runs nothing');
    const { requests } = (await json('/requests')) as { requests: Json[] };
    assert.equal(requests.filter((r) => r.kind === 'disclosure').length, 2);
  });

  it('stops a service: its consents end, and what the law bases are listed for review', async () => {
    assert.equal((await api('/services/no-such-service/stop', { method: 'POST' })).status, 404);
    const stopped = await json(`/services/${handbook.clientId}/stop`, { method: 'POST' });
    const sendai = (stopped.stopped as Json[])[0] as Json;
    assert.equal(sendai.municipality, SENDAI);
    assert.equal((sendai.withdrawn as string[]).length, 1);
    assert.deepEqual(sendai.review, []);
    const write = await broker(handbookToken, `entities/${NOTE}/attrs`, {
      method: 'PATCH',
      body: { heightCm: { type: 'Property', value: 77 } },
      purpose: 'child-rearing',
    });
    assert.equal(write.status, 401, "the handbook's token went with its consent");
  });

  it('erases my data, keeping the vaccination record the law keeps, and says why', async () => {
    const erased = await json('/erasure', { method: 'POST' });
    const sendai = (erased.municipalities as Json[])[0] as Json;
    assert.deepEqual(sendai.erased, [NOTE]);
    const kept = (sendai.kept as Json[])[0] as Json;
    assert.equal(kept.id, RECORD);
    assert.match(String(kept.law), /予防接種法施行令/);
    assert.ok(Date.parse(String(kept.until)) > Date.now() + 4 * 365 * 24 * 3600 * 1000);
    assert.match(JSON.stringify(erased.keptRecords), /第三者提供/);
    const doc = (await (await api('/export')).json()) as { municipalities: Json[] };
    const ids = ((doc.municipalities[0] as Json).personalData as Json[]).map((e) => e.id);
    assert.deepEqual(ids, [RECORD], 'the note and its history are gone');
    const history = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      tx.query('select 1 from broker.attribute_instances where entity_id = $1', [NOTE]),
    );
    assert.equal(history.rowCount, 0);
  });
});
