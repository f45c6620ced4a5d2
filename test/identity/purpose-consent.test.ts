/**
 * The resident's purpose consent on the consent page: a service that declared a request sees it
 * shown item by item, grouped by legal basis; the resident grants part of it; consent's `decide`
 * then allows exactly what was granted; the record keeps the hash of the text shown, and the text;
 * a request that grows asks again (single sign-on, no password), and old consent does not cover
 * what grew.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Decision,
  decide,
  declareServiceRequest,
  definePurpose,
  findConsentText,
  listConsents,
  type RequestItem,
  textHash,
} from '../../src/consent/index.ts';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { backend } from '../helpers/db.ts';
import { PURPOSES, SERVICE } from './purpose-fixtures.ts';
import {
  addResident,
  Browser,
  exchange,
  type IdentityRig,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from './rig.ts';

const SENDAI = '041009';

const item = (over: Partial<RequestItem> & Pick<RequestItem, 'category' | 'purpose'>): RequestItem => ({
  retention: 'P1Y',
  thirdParty: false,
  legalBasis: 'consent',
  ...over,
});

/** The city's maternal-child service, run for it under 委託: statutory duties, and optional uses on consent. */
const V1: RequestItem[] = [
  item({
    category: 'pregnancy',
    purpose: 'maternal-child-health',
    legalBasis: 'statutory-duty',
    retention: 'P5Y',
  }),
  item({
    category: 'contact',
    purpose: 'maternal-child-health',
    legalBasis: 'statutory-duty',
    retention: 'P5Y',
  }),
  item({ category: 'vaccination', purpose: 'telemedicine' }),
  item({ category: 'household', purpose: 'event-recommendations' }),
  item({ category: 'interests', purpose: 'event-recommendations', retention: 'P6M', thirdParty: true }),
];

const VACCINATION = 'vaccination:telemedicine';
const HOUSEHOLD = 'household:event-recommendations';
const INTERESTS = 'interests:event-recommendations';

/** The consent page shown last: its form fields and which boxes are ticked. */
function consentForm(browser: Browser) {
  const page = browser.lastPage;
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page)?.[1] ?? '';
  const boxes = [...page.matchAll(/<input type="checkbox"[^>]*value="([^"]+)"[^>]*>/g)];
  return {
    ...browser.form(),
    version: field('version'),
    shown: field('shown'),
    boxes: boxes.map((m) => m[1] as string),
    ticked: boxes.filter((m) => / checked/.test(m[0])).map((m) => m[1] as string),
  };
}

describe(`purpose consent on the consent page (${backend})`, () => {
  let rig: IdentityRig;
  let rp: Rp;
  let resident: { id: string; email: string };
  const browser = new Browser();
  let sub: string;

  const declare = (items: RequestItem[]) =>
    rig.testDb.db.withTenant(SENDAI, (tx) =>
      declareServiceRequest(tx, SENDAI, {
        clientId: rp.clientId,
        controller: '仙台市',
        controllerKind: 'municipality',
        items,
      }),
    );

  const ask = (category: string, purpose: string, resident_ = resident.id): Promise<Decision> =>
    rig.testDb.db.withTenant(SENDAI, (tx) =>
      decide(tx, {
        tenant: SENDAI,
        resident: resident_,
        actor: { kind: 'client', clientId: rp.clientId },
        category,
        purpose,
        action: 'read',
      }),
    );

  const records = (resident_ = resident.id) =>
    rig.testDb.db.withTenant(SENDAI, (tx) => listConsents(tx, { tenant: SENDAI, resident: resident_ }));

  /** Posts the consent page shown last with these boxes ticked; returns where it led. */
  const answer = (b: Browser, ticked: string[]) => {
    const { csrf, actions, version, shown } = consentForm(b);
    const confirm = actions.find((a) => a.endsWith('/confirm')) as string;
    return b.follow(`${rig.baseUrl}${confirm}`, rp.redirectUri, {
      form: { csrf, version, shown, item: ticked },
    });
  };

  /** A new authorization in browser `b`; returns where it led (the service, or a page). */
  const authorize = async (b: Browser, params: Record<string, string> = {}) => {
    const flow = await startFlow(rp, params);
    return { flow, at: await b.follow(flow.authorizationUrl, rp.redirectUri) };
  };

  const logIn = async (b: Browser, email: string) => {
    const { csrf, actions } = b.form();
    const login = actions.find((a) => a.endsWith('/login')) as string;
    return b.follow(`${rig.baseUrl}${login}`, rp.redirectUri, { form: { csrf, email, password: PASSWORD } });
  };

  before(async () => {
    rig = await startIdentityRig();
    resident = await addResident(rig);
    rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/boshi/callback', name: SERVICE });
    await rig.testDb.db.withTenant(SENDAI, async (tx) => {
      for (const purpose of PURPOSES) await definePurpose(tx, SENDAI, purpose);
    });
    await declare(V1);
  });
  after(() => rig.close());

  it('says who gets what, for which purpose and how long, grouped by legal basis, with nothing ticked', async () => {
    await authorize(browser);
    await logIn(browser, resident.email);
    const page = browser.lastPage;
    assert.match(page, /<h1>情報提供の確認<\/h1>/);
    assert.match(page, new RegExp(`「${SERVICE}」（運営：仙台市）は、あなたの情報を次のとおり利用します。`));
    const form = consentForm(browser);
    assert.deepEqual(
      form.boxes.sort(),
      [HOUSEHOLD, INTERESTS, VACCINATION].sort(),
      'a box per item on consent',
    );
    assert.deepEqual(form.ticked, [], 'consent is opt-in: nothing is ticked at first');
    assert.equal(form.version, '1');
    // Each item: category, purpose and its description, retention, third-party provision.
    assert.match(page, /予防接種記録<\/span> <span class="badge sensitive">要配慮個人情報<\/span>/);
    assert.match(page, /<b>目的：<\/b>医療相談/);
    assert.match(page, /夜間・休日の小児科オンライン相談で、医師がお子さまの記録を確認します。/);
    assert.match(page, /<b>保存期間：<\/b>6か月/);
    assert.match(page, /<b>第三者提供：<\/b>あり（運営者以外にも渡されます）/);
    // Statutory items are information, not a choice: pregnancy records are listed without a box.
    assert.match(page, /<h2 id="inform-heading">同意なしで利用される情報<\/h2><h3>法令に基づく事務<\/h3>/);
    assert.match(page, /法令に基づく事務のため、同意なしで利用されます。/);
    assert.match(page, /妊娠・出産の情報/);
    assert.match(page, /<b>保存期間：<\/b>5年/);
    assert.doesNotMatch(page, /value="pregnancy:/);
    assert.match(page, /ログインのときに渡す情報/);
    assert.match(page, /<button class="primary" type="submit">同意する<\/button>/);
    assert.match(page, /<button class="secondary" type="submit">同意しない<\/button>/);
  });

  it('records part of the request as granted; decide allows exactly that, and the statutory items as declared', async () => {
    const shown = consentForm(browser).shown;
    const back = await answer(browser, [HOUSEHOLD, INTERESTS]);
    assert.ok(
      back.startsWith(rp.redirectUri),
      `back at the service, not at:\n${browser.lastPage.slice(0, 300)}`,
    );
    const flowCallback = new URL(back);
    assert.ok(flowCallback.searchParams.get('code'));

    const [record, ...others] = await records();
    assert.equal(others.length, 0);
    assert.ok(record);
    assert.equal(record.state, 'given');
    assert.equal(record.requestVersion, 1);
    assert.equal(record.controller, '仙台市');
    assert.equal(record.clientId, rp.clientId);
    assert.deepEqual(
      record.items.map((i) => `${i.category}:${i.purpose}`),
      [HOUSEHOLD, INTERESTS],
    );
    assert.equal(record.textSha256, shown, 'the hash the page carried is the hash recorded');

    // The exact text shown is kept, and its SHA-256 is the record's.
    const text = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      findConsentText(tx, SENDAI, record.textSha256, record.textVersion),
    );
    assert.ok(text);
    assert.equal(textHash(text.body), record.textSha256);
    assert.equal(text.language, 'ja');
    assert.equal(text.version, `${rp.clientId}/v1`);
    assert.match(text.body, /・予防接種記録［要配慮個人情報］\n　目的：医療相談\n/);
    assert.match(text.body, /【法令に基づく事務】法令に基づく事務のため、同意なしで利用されます。/);

    assert.deepEqual(await ask('household', 'event-recommendations'), {
      allow: true,
      reason: 'consent',
      basis: 'consent',
      consentId: record.id,
    });
    assert.equal((await ask('interests', 'event-recommendations')).allow, true);
    assert.deepEqual(await ask('vaccination', 'telemedicine'), { allow: false, reason: 'no-consent' });
    assert.deepEqual(await ask('pregnancy', 'maternal-child-health'), {
      allow: true,
      reason: 'declared-basis',
      basis: 'statutory-duty',
    });

    const [audited] = await listAuditEvents(rig.testDb.db, {
      accountId: resident.id,
      kinds: ['consent-granted'],
      limit: 1,
    });
    assert.deepEqual(audited?.detail, {
      scope: 'openid profile email municipality',
      requestVersion: 1,
      granted: 2,
      declined: 1,
      informed: 2,
    });
    assert.equal(audited?.tenantId, SENDAI);
  });

  it('gives the service the pairwise subject the record names, and does not ask again while nothing changed', async () => {
    const { flow, at } = await authorize(browser);
    assert.ok(at.startsWith(rp.redirectUri), 'single sign-on, no page: the unticked item was answered');
    sub = (await exchange(rp, flow, at)).claims()?.sub as string;
    const [record] = await records();
    assert.equal(record?.subject, sub);
  });

  it('asks again when the request grows, without a password; old consent does not cover what grew', async () => {
    const v2 = await declare(V1.map((i) => (i.category === 'household' ? { ...i, retention: 'P2Y' } : i)));
    assert.equal(v2.version, 2);
    assert.deepEqual(await ask('household', 'event-recommendations'), {
      allow: false,
      reason: 'consent-outdated',
      consentId: (await records())[0]?.id,
    });
    assert.equal(
      (await ask('interests', 'event-recommendations')).allow,
      true,
      'what did not grow stays covered',
    );

    const { flow, at } = await authorize(browser);
    assert.ok(!at.startsWith(rp.redirectUri), 'the consent page is shown again');
    assert.doesNotMatch(browser.lastPage, /name="password"/, 'no password: the session stands');
    assert.match(browser.lastPage, /このサービスが利用する情報の内容が変わりました。/);
    assert.match(
      browser.lastPage,
      /世帯（お子さまと生年月日）<\/span> <span class="badge changed">追加・変更<\/span>/,
    );
    assert.match(browser.lastPage, /<b>保存期間：<\/b>2年/);
    const form = consentForm(browser);
    assert.equal(form.version, '2');
    assert.deepEqual(form.ticked, [INTERESTS], 'what the resident still consents to stays ticked');

    const back = await answer(browser, [HOUSEHOLD, INTERESTS]);
    assert.ok(back.startsWith(rp.redirectUri));
    assert.equal((await exchange(rp, flow, back)).claims()?.sub, sub);
    const [now, earlier] = await records();
    assert.equal(now?.requestVersion, 2);
    assert.equal(now?.state, 'given');
    assert.equal(earlier?.state, 'superseded');
    assert.equal((await ask('household', 'event-recommendations')).consentId, now?.id);
    assert.equal((await ask('household', 'event-recommendations')).allow, true);
    assert.equal((await ask('vaccination', 'telemedicine')).allow, false);

    const again = await authorize(browser);
    assert.ok(again.at.startsWith(rp.redirectUri), 'answered: not asked a third time');
  });

  it('logs a resident in who grants nothing, ends what they granted before, and does not ask again', async () => {
    const b = new Browser();
    const other = await addResident(rig, '青葉 太郎');
    await authorize(b);
    await logIn(b, other.email);
    assert.ok((await answer(b, [])).startsWith(rp.redirectUri), 'no item granted, still logged in');
    const [nothing] = await records(other.id);
    assert.deepEqual(nothing?.items, []);
    assert.equal(nothing?.state, 'given');
    assert.equal((await ask('household', 'event-recommendations', other.id)).allow, false);
    assert.ok((await authorize(b)).at.startsWith(rp.redirectUri), 'an answer of nothing is an answer');

    // The resident of the tests above unticks everything when asked again (prompt=consent).
    await authorize(browser, { prompt: 'consent' });
    assert.deepEqual(consentForm(browser).ticked.sort(), [HOUSEHOLD, INTERESTS].sort());
    assert.ok((await answer(browser, [])).startsWith(rp.redirectUri));
    assert.equal((await ask('household', 'event-recommendations')).reason, 'consent-superseded');
    assert.equal((await ask('interests', 'event-recommendations')).allow, false);
  });

  it('ends the login on 同意しない and records nothing', async () => {
    const b = new Browser();
    const other = await addResident(rig);
    await authorize(b);
    await logIn(b, other.email);
    const { csrf, actions } = b.form();
    const abort = actions.find((a) => a.endsWith('/abort')) as string;
    const back = new URL(await b.follow(`${rig.baseUrl}${abort}`, rp.redirectUri, { form: { csrf } }));
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.deepEqual(await records(other.id), []);
  });

  it('shows the page again, recording nothing, when the request changed after it was shown', async () => {
    const b = new Browser();
    const other = await addResident(rig);
    await authorize(b);
    await logIn(b, other.email);
    assert.equal(consentForm(b).version, '2');
    await declare(V1.map((i) => (i.category === 'vaccination' ? { ...i, retention: 'P3Y' } : i)));
    await answer(b, [VACCINATION]);
    assert.equal(b.lastStatus, 409);
    assert.match(b.lastPage, /表示のあとに変わりました/);
    assert.deepEqual(await records(other.id), []);
    assert.equal(consentForm(b).version, '3');
    assert.match(b.lastPage, /<b>保存期間：<\/b>3年/);
    assert.ok((await answer(b, [VACCINATION])).startsWith(rp.redirectUri));
    assert.equal((await ask('vaccination', 'telemedicine', other.id)).allow, true);
  });

  it('refuses an item the request does not ask consent for', async () => {
    const b = new Browser();
    const other = await addResident(rig);
    await authorize(b);
    await logIn(b, other.email);
    await answer(b, ['pregnancy:maternal-child-health']);
    assert.equal(b.lastStatus, 400);
    assert.deepEqual(await records(other.id), []);
  });

  it('speaks English with ui_locales=en, and records the English text', async () => {
    const b = new Browser();
    const other = await addResident(rig);
    await authorize(b, { ui_locales: 'en' });
    await logIn(b, other.email);
    const page = b.lastPage;
    assert.match(page, /<html lang="en">/);
    assert.match(
      page,
      new RegExp(
        `<span lang="ja">${SERVICE}</span> \\(run by <span lang="ja">仙台市</span>\\) will use your information as follows\\.`,
      ),
    );
    assert.match(
      page,
      /Vaccination records<\/span> <span class="badge sensitive">Sensitive personal information<\/span>/,
    );
    assert.match(page, /<b>Kept for: <\/b>6 months/);
    assert.match(page, /Used without your consent, for duties under law/);
    assert.match(page, /<button class="primary" type="submit">Agree<\/button>/);
    assert.ok((await answer(b, [])).startsWith(rp.redirectUri));
    const [record] = await records(other.id);
    const text = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      findConsentText(tx, SENDAI, record?.textSha256 as string),
    );
    assert.equal(text?.language, 'en');
    assert.match(text?.body ?? '', /Shared only if you agree/);
  });
});
