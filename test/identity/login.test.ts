/**
 * Login methods through the provider's pages: the My Number Card (binding, step-up with
 * acr_values, a revoked card), password + TOTP, staff without a second factor, and the brute-force
 * lock, each with the audit trail it leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { ACR, addAccount, jpkiConfig } from '../../src/identity/index.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/identity/totp.ts';
import { makeTestJpki, type TestCard, type TestJpki } from './jpki-fixtures.ts';
import {
  addResident,
  Browser,
  consentIfAsked,
  exchange,
  type IdentityRig,
  PASSWORD,
  type Rp,
  relyingParty,
  startFlow,
  startIdentityRig,
} from './rig.ts';

/** Answers the card challenge on the login page shown last with `card`; returns where it led. */
async function cardAnswer(browser: Browser, rig: IdentityRig, rp: Rp, card: TestCard): Promise<string> {
  const id = /name="challengeId" value="([^"]+)"/.exec(browser.lastPage)?.[1];
  const challenge = /id="challenge" readonly value="([^"]+)"/.exec(browser.lastPage)?.[1];
  assert.ok(id && challenge, 'the login page offers the card');
  const { csrf, actions } = browser.form();
  const action = actions.find((a) => a.endsWith('/card')) as string;
  const answer = await card.answer({ id, challenge });
  return browser.follow(`${rig.baseUrl}${action}`, rp.redirectUri, {
    form: {
      csrf,
      challengeId: answer.challengeId,
      signature: answer.signature,
      certificate: answer.certificate,
    },
  });
}

async function passwordAnswer(
  browser: Browser,
  rig: IdentityRig,
  rp: Rp,
  email: string,
  password = PASSWORD,
) {
  const { csrf, actions } = browser.form();
  return browser.follow(`${rig.baseUrl}${actions.find((a) => a.endsWith('/login'))}`, rp.redirectUri, {
    form: { csrf, email, password },
  });
}

describe('login methods', () => {
  let rig: IdentityRig;
  let jpki: TestJpki;
  before(async () => {
    jpki = await makeTestJpki();
    rig = await startIdentityRig({}, { jpki: jpkiConfig({ caCertificates: jpki.caPem }) });
  });
  after(async () => {
    await rig.close();
    await jpki.close();
  });

  it('binds a My Number Card after a password login, steps up to card assurance, then logs in by card alone', async () => {
    const resident = await addResident(rig);
    const card = await jpki.newCard();
    const rp = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/card/callback',
      name: '母子手帳アプリ',
    });
    const browser = new Browser();
    const flow = await startFlow(rp, { acr_values: ACR.card });
    await browser.follow(flow.authorizationUrl, rp.redirectUri);

    // An unbound card and nobody logged in: refused, with the way to bind it.
    await cardAnswer(browser, rig, rp, card);
    assert.equal(browser.lastStatus, 401);
    assert.match(browser.lastPage, /このカードはまだアカウントに登録されていません/);

    // The password alone does not satisfy acr_values=card: the resident is asked to step up.
    await passwordAnswer(browser, rig, rp, resident.email);
    assert.match(browser.lastPage, /より確かな本人確認/);
    const callback = await consentIfAsked(browser, rig.baseUrl, rp, await cardAnswer(browser, rig, rp, card));
    const claims = (await exchange(rp, flow, callback)).claims();
    assert.equal(claims?.acr, ACR.card);
    assert.ok(((claims?.amr ?? []) as string[]).includes('hwk'));

    // Another browser, card only: the bound card names the account.
    const other = new Browser();
    const flow2 = await startFlow(rp, { acr_values: ACR.card });
    await other.follow(flow2.authorizationUrl, rp.redirectUri);
    const callback2 = await consentIfAsked(other, rig.baseUrl, rp, await cardAnswer(other, rig, rp, card));
    assert.equal((await exchange(rp, flow2, callback2)).claims()?.sub, claims?.sub, 'the same resident');

    const events = await listAuditEvents(rig.testDb.db, { accountId: resident.id, limit: 10 });
    assert.ok(events.some((e) => e.kind === 'card-bound'));
    assert.ok(events.some((e) => e.kind === 'login' && (e.detail as { acr?: string }).acr === ACR.card));
  });

  it('refuses a revoked card with a clear message and opens no session', async () => {
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/revoked/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    await cardAnswer(browser, rig, rp, jpki.cards.revoked);
    assert.equal(browser.lastStatus, 401);
    assert.match(browser.lastPage, /失効/);
    assert.match(browser.lastPage, /name="password"/, 'still on the login page');
  });

  it('asks for the TOTP code after the password, refuses a wrong one and logs in at mfa level', async () => {
    const resident = await addResident(rig);
    const { secret } = await startTotpEnrolment(rig.testDb.db, rig.box, resident.id, resident.email);
    await confirmTotpEnrolment(
      rig.testDb.db,
      rig.box,
      resident.id,
      await generate({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }),
    );
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/totp/callback' });
    const browser = new Browser();
    const flow = await startFlow(rp);
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    await passwordAnswer(browser, rig, rp, resident.email);
    assert.match(browser.lastPage, /6桁の確認コード/);
    const pending = /name="pending" value="([^"]+)"/.exec(browser.lastPage)?.[1] as string;
    const { csrf, actions } = browser.form();
    const action = `${rig.baseUrl}${actions.find((a) => a.endsWith('/totp'))}`;
    await browser.follow(action, rp.redirectUri, { form: { csrf, pending, code: '000000' } });
    assert.equal(browser.lastStatus, 401);
    assert.match(browser.lastPage, /確認コードが違うか、使用済みです/);
    const code = await generate({ secret });
    const at = await browser.follow(action, rp.redirectUri, { form: { csrf, pending, code } });
    const claims = (await exchange(rp, flow, await consentIfAsked(browser, rig.baseUrl, rp, at))).claims();
    assert.equal(claims?.acr, ACR.mfa);
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
  });

  it('does not let staff in on a password alone', async () => {
    const email = `staff-${Date.now()}@city.example.jp`;
    await addAccount(rig.testDb.db, { kind: 'staff', email, displayName: '職員', password: PASSWORD });
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/staff/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    await passwordAnswer(browser, rig, rp, email);
    assert.equal(browser.lastStatus, 403);
    assert.match(browser.lastPage, /二要素認証/);
  });

  it('locks an account after five wrong passwords, even against the right one, and audits it', async () => {
    const resident = await addResident(rig);
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/lock/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    for (let i = 0; i < 5; i++) {
      await passwordAnswer(browser, rig, rp, resident.email, `wrong password ${i}`);
      assert.equal(browser.lastStatus, 401);
    }
    await passwordAnswer(browser, rig, rp, resident.email);
    assert.equal(browser.lastStatus, 429);
    assert.match(browser.lastPage, /一時的にログインできません/);
    const events = await listAuditEvents(rig.testDb.db, { kinds: ['locked-out'], limit: 5 });
    assert.ok(events.length >= 1);
    assert.ok(!JSON.stringify(events).includes(resident.email), 'no e-mail address in the audit trail');
    // A different account from the same address is not locked by it.
    const other = await addResident(rig);
    const fresh = new Browser();
    await fresh.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    const at = await passwordAnswer(fresh, rig, rp, other.email);
    assert.ok(
      at.startsWith(rp.redirectUri) || fresh.lastPage.includes('/confirm'),
      'the other account logs in',
    );
  });
});
