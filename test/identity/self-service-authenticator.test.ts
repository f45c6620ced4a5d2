/**
 * A resident sets up and removes the authenticator app on /account/authenticator over real HTTP:
 * the password again, then the QR code and seed (codes made here with otplib from the seed the page
 * shows), then a code; a later login asks for the app's code. Wrong codes, wrong passwords and
 * forged forms change nothing, and guessing is throttled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate, generateURI } from 'otplib';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { addAccount } from '../../src/identity/index.ts';
import { qrSvg } from '../../src/identity/self-service/authenticator-pages.ts';
import { confirmTotpEnrolment, hasTotp, startTotpEnrolment } from '../../src/identity/totp.ts';
import type { Db } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { AccountPages, altered, formsOn } from './account-pages.ts';
import {
  addResident,
  Browser,
  type IdentityRig,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from './rig.ts';

const now = () => Math.floor(Date.now() / 1000);
const codeAt = (secret: string, epoch = now()) => generate({ secret, epoch });
/** A well-formed code that is not the app's current one. */
const notTheCode = async (secret: string) =>
  String((Number(await codeAt(secret)) + 500_000) % 1_000_000).padStart(6, '0');
/** The seed the page shows, without the spaces that group it. */
const secretOn = (html: string) =>
  /<p class="secret"><code>([A-Z2-7 ]+)<\/code>/.exec(html)?.[1]?.replaceAll(' ', '');

describe(`authenticator app on the self-service pages (${backend})`, () => {
  let rig: IdentityRig;
  let db: Db;
  let pages: AccountPages;
  let rp: Rp;

  before(async () => {
    rig = await startIdentityRig();
    db = rig.testDb.db;
    pages = new AccountPages(rig.baseUrl);
    rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/totp-self/callback' });
  });
  after(() => rig.close());

  /** The password step; returns the browser on the page with the QR code and the seed shown. */
  async function startEnrolment(email: string) {
    const browser = new Browser();
    await pages.open(browser, '/account/authenticator');
    assert.equal(await pages.submit(browser, { email, password: PASSWORD }), 200, browser.lastPage);
    const secret = secretOn(browser.lastPage);
    assert.ok(secret, `no seed on the page:\n${browser.lastPage}`);
    return { browser, secret };
  }

  /** An account with a confirmed authenticator (confirmed with the previous step's code) and its seed. */
  async function enrolled(): Promise<{ id: string; email: string; secret: string }> {
    const resident = await addResident(rig);
    const { secret } = await startTotpEnrolment(db, rig.box, resident.id, resident.email);
    assert.ok(await confirmTotpEnrolment(db, rig.box, resident.id, await codeAt(secret, now() - 30)));
    return { ...resident, secret };
  }

  /** Whether a login, its password right, asks for the authenticator's code next. */
  async function loginAsksForCode(email: string): Promise<boolean> {
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    const { csrf, actions } = browser.form();
    const login = actions.find((a) => a.endsWith('/login')) as string;
    const at = await browser.follow(`${rig.baseUrl}${login}`, rp.redirectUri, {
      form: { csrf, email, password: PASSWORD },
    });
    if (at.startsWith(rp.redirectUri)) return false;
    assert.equal(browser.lastStatus, 200, browser.lastPage);
    const asks = /6桁の確認コード/.test(browser.lastPage);
    assert.ok(
      asks || /許可する/.test(browser.lastPage),
      `neither the code nor the consent page:\n${browser.lastPage}`,
    );
    return asks;
  }

  it('shows the QR code and seed after the password, and a login needs the code once confirmed', async () => {
    const resident = await addResident(rig);
    const page = await pages.open(new Browser(), '/account/delete');
    assert.match(
      page,
      /href="\/account\/authenticator\?lang=ja">認証アプリ（二段階認証）/,
      'linked from the others',
    );
    const { browser, secret } = await startEnrolment(resident.email);
    const html = browser.lastPage;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(html, /<p class="secret"><code>([A-Z2-7]{4} ){7}[A-Z2-7]{4}<\/code>/, 'grouped for typing');
    const uri = generateURI({ issuer: 'Machi', label: resident.email, secret });
    assert.ok(
      html.includes(await qrSvg(uri, '認証アプリで読み取るQRコード')),
      'the QR code holds the otpauth URI',
    );
    const [confirm] = formsOn(html);
    assert.ok(confirm);
    assert.match(confirm.action, /^\/account\/authenticator\/confirm\?lang=ja$/);
    assert.ok(
      !confirm.action.includes(secret) && !confirm.hidden.proof?.includes(secret),
      'no seed in a URL or field',
    );
    assert.ok(![...browser.cookies.values()].some((v) => v.includes(secret)), 'nor in a cookie');
    const { rows } = await db.query<{ secret_sealed: string; confirmed_at: Date | null }>(
      'select secret_sealed, confirmed_at from identity.totp_factors where account_id = $1',
      [resident.id],
    );
    assert.equal(rows[0]?.confirmed_at, null, 'pending until a code confirms it');
    assert.ok(!rows[0]?.secret_sealed.includes(secret), 'the stored seed is sealed');
    assert.equal(await loginAsksForCode(resident.email), false, 'a pending enrolment changes no login');

    assert.equal(await pages.submit(browser, { code: await codeAt(secret) }), 200, browser.lastPage);
    assert.match(browser.lastPage, /認証アプリを設定しました/);
    assert.equal(await hasTotp(db, resident.id), true);
    assert.equal(await loginAsksForCode(resident.email), true, 'the login asks for the code now');
    const events = await listAuditEvents(db, { accountId: resident.id, kinds: ['totp-enrolled'], limit: 5 });
    assert.deepEqual(
      events.map((e) => [e.outcome, e.detail]),
      [['success', { method: 'self-service' }]],
    );
    assert.ok(!JSON.stringify(events).includes(secret), 'no seed in the audit trail');
  });

  it('refuses a wrong code with the same QR code shown again, enrols nothing and throttles guessing', async () => {
    const resident = await addResident(rig);
    const { browser, secret } = await startEnrolment(resident.email);
    assert.equal(await pages.submit(browser, { code: 'abc' }), 400);
    assert.match(browser.lastPage, /6桁の確認コードを入力してください/);
    for (let i = 0; i < 5; i++) {
      assert.equal(await pages.submit(browser, { code: await notTheCode(secret) }), 401, `attempt ${i}`);
      assert.match(browser.lastPage, /確認コードが違うか、使用済みです/);
      assert.equal(secretOn(browser.lastPage), secret, 'the same seed, to try again');
    }
    assert.equal(await hasTotp(db, resident.id), false, 'nothing enrolled');
    assert.equal(
      await pages.submit(browser, { code: await codeAt(secret) }),
      429,
      'locked, even the right code',
    );
    assert.equal(await hasTotp(db, resident.id), false);
    const failures = await listAuditEvents(db, {
      accountId: resident.id,
      kinds: ['totp-enrolled'],
      limit: 10,
    });
    assert.equal(failures.filter((e) => e.outcome === 'failure').length, 5);
  });

  it('refuses forged or missing CSRF tokens, and proofs altered or from another browser, with 403', async () => {
    const resident = await addResident(rig);
    const browser = new Browser();
    await pages.open(browser, '/account/authenticator');
    assert.equal(
      await pages.submit(browser, { email: resident.email, password: PASSWORD, csrf: 'forged' }),
      403,
    );
    assert.match(browser.lastPage, /フォームの有効期限が切れたか/);
    const { rows } = await db.query('select 1 from identity.totp_factors where account_id = $1', [
      resident.id,
    ]);
    assert.equal(rows.length, 0, 'no enrolment was started');

    const first = await startEnrolment(resident.email);
    const second = await startEnrolment(resident.email);
    const [mine, theirs] = [formsOn(second.browser.lastPage)[0], formsOn(first.browser.lastPage)[0]];
    assert.ok(mine && theirs);
    const code = await codeAt(second.secret);
    const tries: [string, Record<string, string>, RegExp][] = [
      ['a forged CSRF token', { csrf: 'forged' }, /フォームの有効期限が切れたか/],
      ['no CSRF token', { csrf: '' }, /フォームの有効期限が切れたか/],
      [
        'a proof from another browser',
        { proof: theirs.hidden.proof as string },
        /本人確認の有効期限が切れました/,
      ],
      ['an altered proof', { proof: altered(mine.hidden.proof as string) }, /本人確認の有効期限が切れました/],
      ['no proof', { proof: '' }, /本人確認の有効期限が切れました/],
    ];
    for (const [what, fields, message] of tries) {
      assert.equal(await pages.submit(second.browser, { code, ...fields }, mine), 403, what);
      assert.match(second.browser.lastPage, message, what);
    }
    second.browser.cookies.clear();
    assert.equal(await pages.submit(second.browser, { code }, mine), 403, 'the form without its cookie');
    assert.equal(await hasTotp(db, resident.id), false, 'nothing enrolled');
  });

  it('refuses a wrong password, locks after five, and refuses staff', async () => {
    const resident = await addResident(rig);
    const browser = new Browser();
    for (let i = 0; i < 5; i++) {
      await pages.open(browser, '/account/authenticator');
      assert.equal(await pages.submit(browser, { email: resident.email, password: `wrong ${i}` }), 401);
      assert.match(browser.lastPage, /メールアドレスまたはパスワードが違います/);
    }
    await pages.open(browser, '/account/authenticator');
    assert.equal(await pages.submit(browser, { email: resident.email, password: PASSWORD }), 429);
    assert.match(browser.lastPage, /分後にもう一度お試しください/);
    const { rows } = await db.query('select 1 from identity.totp_factors where account_id = $1', [
      resident.id,
    ]);
    assert.equal(rows.length, 0, 'no enrolment was started');

    const staff = `staff-${Date.now()}@city.example.jp`;
    await addAccount(db, { kind: 'staff', email: staff, displayName: '職員', password: PASSWORD });
    await pages.open(browser, '/account/authenticator');
    assert.equal(await pages.submit(browser, { email: staff, password: PASSWORD }), 403);
    assert.match(browser.lastPage, /職員のアカウントは、この画面では変更できません/);
  });

  it('removes the authenticator only with a current code from it', async () => {
    const resident = await enrolled();
    const browser = new Browser();
    await pages.open(browser, '/account/authenticator');
    const current = await codeAt(resident.secret);
    assert.equal(
      await pages.submit(browser, { email: resident.email, password: PASSWORD, code: current }),
      409,
    );
    assert.match(browser.lastPage, /すでに設定されています/);
    assert.match(browser.lastPage, /href="\/account\/authenticator\/remove\?lang=ja"/);

    await pages.open(browser, '/account/authenticator/remove?lang=en');
    assert.equal(await pages.submit(browser, { email: resident.email, password: PASSWORD }), 400);
    assert.match(browser.lastPage, /Enter the 6-digit code/);
    const wrong = await notTheCode(resident.secret);
    assert.equal(
      await pages.submit(browser, { email: resident.email, password: PASSWORD, code: wrong }),
      401,
    );
    assert.equal(await hasTotp(db, resident.id), true, 'still there');
    const next = await codeAt(resident.secret, now() + 30);
    assert.equal(await pages.submit(browser, { email: resident.email, password: PASSWORD, code: next }), 200);
    assert.match(browser.lastPage, /Your authenticator app has been removed/);
    assert.equal(await hasTotp(db, resident.id), false);
    assert.equal(await loginAsksForCode(resident.email), false, 'the password is enough again');
    const events = await listAuditEvents(db, { accountId: resident.id, kinds: ['totp-removed'], limit: 5 });
    assert.equal(events.length, 1);

    await pages.open(browser, '/account/authenticator/remove');
    assert.equal(
      await pages.submit(browser, { email: resident.email, password: PASSWORD, code: '123456' }),
      404,
    );
    assert.match(browser.lastPage, /認証アプリが設定されていません/);
  });
});
