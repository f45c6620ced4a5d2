/**
 * Self-service accounts over real HTTP, with the mails Machi sends received by a real SMTP server:
 * registration with e-mail verification, password reset, moving to another municipality and
 * deleting the account, each answering the same whether an address has an account, and bad input
 * refused with a page that says why.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { addAccount, findAccountByEmail, type MailConfig } from '../../src/identity/index.ts';
import { jobHandlers } from '../../src/main.ts';
import { addTenant, type Db, Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { type Mailbox, type ReceivedMail, startMailbox } from './mailbox.ts';
import {
  addResident,
  Browser,
  exchange,
  type IdentityRig,
  loginAndConsent,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from './rig.ts';

const NEW_PASSWORD = 'a brand new passphrase 2024';
const NOWHERE = 'http://nowhere.invalid/';

let emails = 0;
const newEmail = () => `self${++emails}-${Date.now()}@example.jp`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe(`self-service accounts (${backend})`, () => {
  let rig: IdentityRig;
  let db: Db;
  let mailbox: Mailbox;
  let worker: Worker;
  let rp: Rp;

  before(async () => {
    mailbox = await startMailbox();
    const mail: MailConfig = { smtpUrl: mailbox.smtpUrl, from: 'Machi <no-reply@city.example.jp>' };
    rig = await startIdentityRig({}, { mail });
    db = rig.testDb.db;
    await addTenant(db, { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City' });
    const config = { publicUrl: rig.baseUrl, outboundPrivate: 'deny' as const, outboundAllow: [], mail };
    worker = new Worker(db, { handlers: jobHandlers(db, loadBrokerConfig({}), config), pollIntervalMs: 20 });
    worker.start();
    rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/self/callback', name: 'マイページ' });
  });
  after(async () => {
    await worker.stop();
    await rig.close();
    await mailbox.close();
  });
  beforeEach(async () => {
    // Each test starts with fresh mail limits (they are tested on their own below).
    await db.query(`delete from identity.login_throttle where key like 'mail-%'`);
  });

  /** Shows a self-service page in the browser; returns its HTML. */
  async function open(browser: Browser, path: string): Promise<string> {
    await browser.follow(`${rig.baseUrl}${path}`, NOWHERE);
    return browser.lastPage;
  }

  /**
   * Submits the form of the page shown last with its hidden fields (CSRF token, reset token), `csrf`
   * replacing the page's token when given; returns the status.
   */
  async function submit(browser: Browser, fields: Record<string, string>, csrf?: string): Promise<number> {
    const action = browser.form().actions[0] as string;
    const hidden = Object.fromEntries(
      [...browser.lastPage.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1] as string,
        m[2] as string,
      ]),
    );
    const form = { ...hidden, ...(csrf === undefined ? {} : { csrf }), ...fields };
    await browser.follow(`${rig.baseUrl}${action}`, NOWHERE, { form });
    return browser.lastStatus;
  }

  async function register(browser: Browser, fields: Record<string, string>): Promise<number> {
    await open(browser, '/account/register');
    return submit(browser, {
      name: '青葉 太郎',
      password: NEW_PASSWORD,
      municipality: '041009',
      terms: 'yes',
      ...fields,
    });
  }

  function linkIn(mail: ReceivedMail, path: string): string {
    const base = rig.baseUrl.replaceAll('.', '\\.');
    const match = new RegExp(`${base}${path}\\?token=[A-Za-z0-9_-]{43}`).exec(mail.text);
    assert.ok(match, `no ${path} link in:\n${mail.text}`);
    return match[0];
  }

  /** Waits until the worker has run every queued mail job. */
  async function mailJobsSettled(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const { rows } = await db.query<{ n: number }>(
        `select count(*)::int as n from platform.jobs where queue = 'identity.mail' and state in ('pending', 'running')`,
      );
      if (rows[0]?.n === 0) return;
      await sleep(20);
    }
    throw new Error('mail jobs did not finish');
  }

  /** Logs in through the provider in a fresh browser; returns the browser and where it ended. */
  async function tryLogin(email: string, password: string) {
    const browser = new Browser();
    const flow = await startFlow(rp);
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    const { csrf, actions } = browser.form();
    const login = actions.find((a) => a.endsWith('/login')) as string;
    const at = await browser.follow(`${rig.baseUrl}${login}`, rp.redirectUri, {
      form: { csrf, email, password },
    });
    return { browser, flow, at };
  }

  /**
   * Logs in (or uses the browser's session) and returns what the service learns: the new ID token's
   * claims with the userinfo answer for its access token (scope claims of a code flow come there).
   */
  async function loginClaims(browser: Browser, email: string, password = PASSWORD) {
    const flow = await startFlow(rp);
    const at = await browser.follow(flow.authorizationUrl, rp.redirectUri);
    // With a session and consent already, the provider sends the browser straight back.
    const callback = at.startsWith(rp.redirectUri)
      ? at
      : await loginAndConsent(browser, rig.baseUrl, rp, email, password);
    const tokens = await exchange(rp, flow, callback);
    const claims = tokens.claims();
    assert.ok(claims);
    return { ...claims, ...(await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub)) };
  }

  it('registers a resident who can log in only after following the mailed link', async () => {
    const email = newEmail();
    const browser = new Browser();
    const form = await open(browser, '/account/register');
    assert.match(form, /<html lang="ja">/);
    assert.match(form, /12文字以上/, 'the page says how long a password must be');
    assert.match(form, /<option value="041009">仙台市<\/option>/);
    assert.match(form, /<option value="042021">石巻市<\/option>/);
    assert.doesNotMatch(form, /<option value="040002"/, 'a prefecture is not a home municipality');
    assert.equal(await register(browser, { email }), 200);
    assert.match(browser.lastPage, /メールのリンクを開いて登録を完了してください/);

    const mail = await mailbox.next(email);
    assert.match(mail.subject, /メールアドレスの確認/);
    assert.ok(
      mail.text.indexOf('青葉 太郎 様') < mail.text.indexOf('Dear 青葉 太郎'),
      'Japanese first, English below',
    );
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    const link = linkIn(mail, '/account/verify');
    const token = new URL(link).searchParams.get('token') as string;
    const stored = await db.query<{ token_hash: string }>(
      `select token_hash from identity.account_tokens t join identity.accounts a on a.id = t.account_id
        where lower(a.email) = lower($1)`,
      [email],
    );
    assert.deepEqual(
      stored.rows.map((r) => r.token_hash),
      [sha256(token)],
      'only the hash of the token is stored',
    );
    const jobs = await db.query<{ payload: Record<string, unknown> }>(
      `select payload from platform.jobs where queue = 'identity.mail'`,
    );
    assert.ok(
      jobs.rows.every((j) => Object.keys(j.payload).sort().join() === 'accountId,kind'),
      'the queue holds neither the address nor the link',
    );

    const refused = await tryLogin(email, NEW_PASSWORD);
    assert.equal(refused.browser.lastStatus, 403);
    assert.match(refused.browser.lastPage, /メールアドレスの確認が済んでいません/);
    assert.match(refused.browser.lastPage, /href="\/account\/verify\/resend\?lang=ja"/, 'offers to resend');

    assert.match(
      await open(new Browser(), new URL(link).pathname + new URL(link).search),
      /メールアドレスを確認しました/,
    );
    const claims = await loginClaims(new Browser(), email, NEW_PASSWORD);
    assert.equal(claims?.email_verified, true);
    assert.equal(claims?.home_municipality, '041009');
    assert.equal(claims?.name, '青葉 太郎');
    const account = await findAccountByEmail(db, email);
    const events = await listAuditEvents(db, { accountId: account?.id as string, limit: 20 });
    assert.ok(events.some((e) => e.kind === 'account-created'));
    assert.ok(events.some((e) => e.kind === 'email-verified'));
    assert.ok(!JSON.stringify(events).includes(email), 'no e-mail address in the audit trail');
  });

  it('refuses a verification link used once already or expired, and resends a working one', async () => {
    const email = newEmail();
    assert.equal(await register(new Browser(), { email }), 200);
    const first = linkIn(await mailbox.next(email), '/account/verify');
    const path = (link: string) => new URL(link).pathname + new URL(link).search;
    await open(new Browser(), path(first));
    const again = new Browser();
    await open(again, path(first));
    assert.equal(again.lastStatus, 400);
    assert.match(again.lastPage, /このリンクは使えません/);

    const other = newEmail();
    assert.equal(await register(new Browser(), { email: other }), 200);
    const stale = linkIn(await mailbox.next(other), '/account/verify');
    await db.query(
      `update identity.account_tokens set expires_at = now() - interval '1 second'
        where token_hash = $1`,
      [sha256(new URL(stale).searchParams.get('token') as string)],
    );
    const late = new Browser();
    await open(late, path(stale));
    assert.equal(late.lastStatus, 400);
    assert.match(late.lastPage, /このリンクは使えません/);
    assert.equal((await tryLogin(other, NEW_PASSWORD)).browser.lastStatus, 403, 'still unverified');

    // The page of the refused link asks for the address to send a new one.
    assert.equal(await submit(late, { email: other }), 200);
    assert.match(late.lastPage, /確認のメールをもう一度送りました/);
    await open(new Browser(), path(linkIn(await mailbox.next(other), '/account/verify')));
    assert.equal((await loginClaims(new Browser(), other, NEW_PASSWORD))?.email_verified, true);
  });

  it('resets a password by mail: the old one fails, the old session and tokens are gone', async () => {
    const resident = await addResident(rig);
    const browser = new Browser();
    const flow = await startFlow(rp, { scope: 'openid offline_access', prompt: 'consent' });
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    const tokens = await exchange(rp, flow, await loginAndConsent(browser, rig.baseUrl, rp, resident.email));
    assert.ok(tokens.refresh_token);

    const asker = new Browser();
    assert.match(await open(asker, '/account/reset'), /パスワードの再設定/);
    assert.equal(await submit(asker, { email: resident.email.toUpperCase() }), 200);
    const unknown = new Browser();
    await open(unknown, '/account/reset');
    assert.equal(await submit(unknown, { email: newEmail() }), 200);
    assert.equal(unknown.lastPage, asker.lastPage, 'the same answer for an address without an account');

    const link = new URL(linkIn(await mailbox.next(resident.email), '/account/reset/confirm'));
    const setter = new Browser();
    assert.match(await open(setter, link.pathname + link.search), /新しいパスワード/);
    assert.equal(await submit(setter, { password: 'too short' }), 400);
    assert.match(setter.lastPage, /パスワードは12文字以上にしてください/);
    assert.equal(await submit(setter, { password: NEW_PASSWORD }), 200);
    assert.match(setter.lastPage, /パスワードを変更しました/);
    const reuse = new Browser();
    await open(reuse, link.pathname + link.search);
    assert.equal(reuse.lastStatus, 400, 'a reset link works once');

    assert.equal(
      (await tryLogin(resident.email, PASSWORD)).browser.lastStatus,
      401,
      'the old password fails',
    );
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    assert.match(browser.lastPage, /name="password"/, 'the single sign-on session ended');
    await assert.rejects(
      oidc.refreshTokenGrant(rp.config, tokens.refresh_token as string),
      (error: unknown) => {
        assert.equal((error as { error?: string }).error, 'invalid_grant');
        return true;
      },
    );
    assert.equal((await loginClaims(new Browser(), resident.email, NEW_PASSWORD))?.email_verified, true);
    const events = await listAuditEvents(db, { accountId: resident.id, kinds: ['password-reset'], limit: 5 });
    assert.equal(events.length, 1);
  });

  it('deletes an account after the password is entered again, with its sessions, and audits it', async () => {
    const resident = await addResident(rig);
    const browser = new Browser();
    await loginClaims(browser, resident.email);
    const page = new Browser();
    assert.match(await open(page, '/account/delete'), /アカウントの削除/);
    assert.equal(
      await submit(page, { email: resident.email, password: 'not the password', confirm: 'yes' }),
      401,
    );
    assert.match(page.lastPage, /メールアドレスまたはパスワードが違います/);
    assert.equal(await submit(page, { email: resident.email, password: PASSWORD }), 400);
    assert.match(page.lastPage, /確認のチェックを入れてください/);
    assert.ok(await findAccountByEmail(db, resident.email), 'nothing deleted yet');
    assert.equal(await submit(page, { email: resident.email, password: PASSWORD, confirm: 'yes' }), 200);
    assert.match(page.lastPage, /アカウントを削除しました/);

    assert.equal(await findAccountByEmail(db, resident.email), undefined);
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from identity.oidc_models where payload ->> 'accountId' = $1`,
      [resident.id],
    );
    assert.equal(rows[0]?.n, 0, 'no session, grant or token of the account is left');
    assert.equal((await tryLogin(resident.email, PASSWORD)).browser.lastStatus, 401);
    const events = await listAuditEvents(db, {
      accountId: resident.id,
      kinds: ['account-deleted'],
      limit: 5,
    });
    assert.equal(events.length, 1);
    assert.ok(!JSON.stringify(events).includes(resident.email), 'no e-mail address in the audit detail');
  });

  it('moves a resident to another municipality; a new ID token carries it', async () => {
    const resident = await addResident(rig);
    const browser = new Browser();
    assert.equal((await loginClaims(browser, resident.email))?.home_municipality, '041009');
    const page = new Browser();
    await open(page, '/account/municipality?lang=en');
    assert.match(page.lastPage, /<option value="042021">石巻市 \(Ishinomaki City\)<\/option>/);
    assert.equal(
      await submit(page, { email: resident.email, password: PASSWORD, municipality: '042021' }),
      200,
    );
    assert.match(page.lastPage, /Your municipality is now Ishinomaki City/);
    assert.equal((await loginClaims(browser, resident.email))?.home_municipality, '042021');
    const [event] = await listAuditEvents(db, {
      accountId: resident.id,
      kinds: ['municipality-changed'],
      limit: 1,
    });
    assert.deepEqual(event?.detail, { from: '041009', to: '042021' });
  });

  it('asks for the authenticator code of an account that has one, and refuses staff', async () => {
    const resident = await addResident(rig);
    await db.query(
      `insert into identity.totp_factors (account_id, secret_sealed, confirmed_at) values ($1, 'x', now())`,
      [resident.id],
    );
    const page = new Browser();
    await open(page, '/account/delete');
    assert.equal(await submit(page, { email: resident.email, password: PASSWORD, confirm: 'yes' }), 401);
    assert.match(page.lastPage, /認証アプリの確認コードも必要です/);
    assert.ok(await findAccountByEmail(db, resident.email));

    const staff = newEmail();
    await addAccount(db, { kind: 'staff', email: staff, displayName: '職員', password: PASSWORD });
    await open(page, '/account/municipality');
    assert.equal(await submit(page, { email: staff, password: PASSWORD, municipality: '042021' }), 403);
    assert.match(page.lastPage, /職員のアカウントは、この画面では変更できません/);
  });

  it('answers a registration with a taken address like any other and warns its owner by mail', async () => {
    const resident = await addResident(rig);
    const fresh = new Browser();
    assert.equal(await register(fresh, { email: newEmail() }), 200);
    const taken = new Browser();
    assert.equal(
      await register(taken, { email: resident.email, name: '別人', password: 'another long password' }),
      200,
    );
    assert.equal(taken.lastPage, fresh.lastPage, 'the same page whether or not the address is taken');

    const mail = await mailbox.next(resident.email);
    assert.match(mail.subject, /新規登録のお申し込みについて/);
    assert.match(mail.text, new RegExp(`${rig.baseUrl.replaceAll('.', '\\.')}/account/reset\\s`));
    assert.doesNotMatch(mail.text, /token=/);
    const { rows } = await db.query<{ n: number; name: string }>(
      `select count(*)::int as n, max(display_name) as name from identity.accounts where lower(email) = lower($1)`,
      [resident.email],
    );
    assert.deepEqual(rows[0], { n: 1, name: '仙台 花子' });
    assert.ok(
      (await tryLogin(resident.email, PASSWORD)).browser.lastStatus !== 401,
      'the password is unchanged',
    );
  });

  it('refuses bad input with a page that says why, and creates nothing', async () => {
    const { rows: before } = await db.query<{ n: number }>('select count(*)::int as n from platform.jobs');
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ email: newEmail(), password: 'short' }, 400, /パスワードは12文字以上にしてください/],
      [{ email: 'not an address' }, 400, /正しいメールアドレスを入力してください/],
      [{ email: newEmail(), municipality: '040002' }, 400, /一覧から選んでください/],
      [{ email: newEmail(), municipality: '999999' }, 400, /一覧から選んでください/],
      [{ email: newEmail(), terms: '' }, 400, /同意が必要です/],
    ];
    for (const [fields, status, message] of cases) {
      const browser = new Browser();
      assert.equal(await register(browser, fields), status, JSON.stringify(fields));
      assert.match(browser.lastPage, message);
      assert.match(browser.lastPage, /aria-invalid="true"/);
      if (fields.email?.includes('@')) assert.equal(await findAccountByEmail(db, fields.email), undefined);
    }
    const forged = new Browser();
    const email = newEmail();
    await open(forged, '/account/register');
    const fields = { email, name: '名前', password: NEW_PASSWORD, municipality: '041009', terms: 'yes' };
    assert.equal(await submit(forged, fields, 'forged'), 403);
    assert.match(forged.lastPage, /フォームの有効期限が切れたか/);
    const noCookie = new Browser();
    await open(noCookie, '/account/register');
    const { csrf } = noCookie.form();
    noCookie.cookies.clear();
    assert.equal(await submit(noCookie, fields, csrf), 403, 'a token without its cookie is refused');
    assert.equal(await findAccountByEmail(db, email), undefined);
    const { rows: after } = await db.query<{ n: number }>('select count(*)::int as n from platform.jobs');
    assert.equal(after[0]?.n, before[0]?.n, 'no mail was queued');
  });

  it('limits the mail one address can be sent, without telling whether it has an account', async () => {
    const resident = await addResident(rig);
    for (const address of [resident.email, newEmail()]) {
      const browser = new Browser();
      for (let i = 0; i < 3; i++) {
        await open(browser, '/account/reset');
        assert.equal(await submit(browser, { email: address }), 200);
      }
      await open(browser, '/account/reset');
      assert.equal(await submit(browser, { email: address }), 429);
      assert.match(browser.lastPage, /もう一度お試しください/);
    }
    await mailJobsSettled();
    assert.equal(mailbox.pending(resident.email).length, 3, 'three mails, not four');
  });

  it('speaks English on ?lang=en or Accept-Language, and links the pages from the login page', async () => {
    const response = await fetch(`${rig.baseUrl}/account/register`, {
      headers: { 'accept-language': 'en-GB,en' },
    });
    const html = await response.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /At least 12 characters/);
    assert.match(html, /<option value="041009">仙台市 \(Sendai City\)<\/option>/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(response.headers.get('set-cookie') ?? '', /HttpOnly/i);
    const browser = new Browser();
    assert.match(await open(browser, '/account/reset?lang=en'), /Reset your password/);
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    assert.match(browser.lastPage, /href="\/account\/register\?lang=ja">新規登録/);
    assert.match(browser.lastPage, /href="\/account\/reset\?lang=ja">パスワードを忘れた方/);
  });
});

describe(`self-service accounts without mail (${backend})`, () => {
  let rig: IdentityRig;
  before(async () => {
    rig = await startIdentityRig();
  });
  after(() => rig.close());

  it('stores no link and queues no mail when SMTP_URL is unset, and says mail is off', async () => {
    const browser = new Browser();
    await browser.follow(`${rig.baseUrl}/account/register`, NOWHERE);
    const { csrf, actions } = browser.form();
    const email = newEmail();
    await browser.follow(`${rig.baseUrl}${actions[0]}`, NOWHERE, {
      form: { csrf, email, name: '名前', password: NEW_PASSWORD, municipality: '041009', terms: 'yes' },
    });
    assert.equal(browser.lastStatus, 200);
    assert.match(browser.lastPage, /メールの送信が設定されていない/);
    const db = rig.testDb.db;
    assert.ok(await findAccountByEmail(db, email));
    const tokens = await db.query('select 1 from identity.account_tokens');
    const jobs = await db.query(`select 1 from platform.jobs where queue = 'identity.mail'`);
    assert.equal(tokens.rows.length + jobs.rows.length, 0);
  });
});
