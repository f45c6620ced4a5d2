/**
 * Access ended from the server side, seen by two services with back-channel logout endpoints on
 * 127.0.0.1: a password reset and an account deletion (through the real /account pages) log the
 * resident out of both with a valid logout token and kill their refresh tokens; withdrawing one
 * service's access ends only that service's.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type Provider from 'oidc-provider';
import * as oidc from 'openid-client';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import type { MailConfig } from '../../src/identity/index.ts';
import { loadSigningKeys } from '../../src/identity/oidc/keys.ts';
import { createProvider } from '../../src/identity/oidc/provider.ts';
import { endAccountSessions, revokeClientAccess, sendLogouts } from '../../src/identity/oidc/revoke.ts';
import { jobHandlers } from '../../src/main.ts';
import { type Db, OutboundPolicy, Worker } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import { type Mailbox, startMailbox } from './mailbox.ts';
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

const NOWHERE = 'http://nowhere.invalid/';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A service's view of a login: its refresh token and the ID token's `sub` and `sid`. */
interface Login {
  rp: Rp;
  refreshToken: string;
  sub: string;
  sid: string;
}

describe(`server-side logout and revocation (${backend})`, () => {
  let rig: IdentityRig;
  let db: Db;
  let mailbox: Mailbox;
  let worker: Worker;
  let receiver: http.Server;
  let port: number;
  /** Logout tokens received, by path; paths in `failing` answer 500. */
  const received: { path: string; token: string }[] = [];
  const failing = new Set<string>();
  let services = 0;

  before(async () => {
    mailbox = await startMailbox();
    const mail: MailConfig = { smtpUrl: mailbox.smtpUrl, from: 'Machi <no-reply@city.example.jp>' };
    rig = await startIdentityRig({}, { mail });
    db = rig.testDb.db;
    const config = { publicUrl: rig.baseUrl, outboundPrivate: 'deny' as const, outboundAllow: [], mail };
    worker = new Worker(db, { handlers: jobHandlers(db, loadBrokerConfig({}), config), pollIntervalMs: 20 });
    worker.start();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({
          path: String(req.url),
          token: String(new URLSearchParams(body).get('logout_token')),
        });
        res.statusCode = failing.has(String(req.url)) ? 500 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  after(async () => {
    await worker.stop();
    await rig.close();
    await mailbox.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    failing.clear();
  });

  /** A service of its own for each test, with a back-channel logout endpoint. */
  async function service(): Promise<Rp> {
    const base = `http://127.0.0.1:${port}/s${++services}`;
    return relyingParty(rig, { redirectUri: `${base}/callback`, backchannelLogoutUri: `${base}/logout` });
  }

  /** Logs in to `rp` in `browser` (by password the first time), asking for a refresh token. */
  async function login(browser: Browser, rp: Rp, email: string): Promise<Login> {
    const flow = await startFlow(rp, { scope: 'openid offline_access', prompt: 'consent' });
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    const tokens = await exchange(rp, flow, await loginAndConsent(browser, rig.baseUrl, rp, email));
    const claims = tokens.claims();
    assert.ok(tokens.refresh_token && claims?.sid);
    return { rp, refreshToken: tokens.refresh_token, sub: claims.sub, sid: String(claims.sid) };
  }

  /** A resident logged in to two services in one browser (one single sign-on session). */
  async function residentOfTwo() {
    const resident = await addResident(rig);
    const browser = new Browser();
    const a = await login(browser, await service(), resident.email);
    const b = await login(browser, await service(), resident.email);
    assert.equal(a.sid === b.sid, false, 'each service has its own sid');
    return { resident, browser, a, b };
  }

  const logoutPath = (rp: Rp) => new URL('logout', rp.redirectUri).pathname;

  /** Checks the one logout token `login`'s service received as a relying party would. */
  async function assertLoggedOut({ rp, sub, sid }: Login): Promise<void> {
    const tokens = received.filter((r) => r.path === logoutPath(rp));
    assert.equal(tokens.length, 1, `one logout token at ${logoutPath(rp)}`);
    const token = tokens[0]?.token as string;
    assert.equal(decodeProtectedHeader(token).typ, 'logout+jwt');
    const jwks = createRemoteJWKSet(new URL(`${rig.issuer}/jwks`));
    const { payload } = await jwtVerify(token, jwks, { issuer: rig.issuer, audience: rp.clientId });
    assert.equal(payload.sub, sub, "the service's pairwise sub");
    assert.equal(payload.sid, sid, "the sid of the service's ID token");
    assert.deepEqual(payload.events, { [LOGOUT_EVENT]: {} });
    assert.ok(payload.jti && payload.iat);
    assert.equal(payload.nonce, undefined, 'a logout token carries no nonce');
  }

  async function assertRefreshRefused({ rp, refreshToken }: Login): Promise<void> {
    await assert.rejects(oidc.refreshTokenGrant(rp.config, refreshToken), (error: unknown) => {
      assert.equal((error as { error?: string }).error, 'invalid_grant');
      return true;
    });
  }

  /** Submits the form of the page shown last with its hidden fields; returns the status. */
  async function submit(browser: Browser, fields: Record<string, string>): Promise<number> {
    const action = browser.form().actions[0] as string;
    const hidden = Object.fromEntries(
      [...browser.lastPage.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1] as string,
        m[2] as string,
      ]),
    );
    await browser.follow(`${rig.baseUrl}${action}`, NOWHERE, { form: { ...hidden, ...fields } });
    return browser.lastStatus;
  }

  async function open(browser: Browser, path: string): Promise<void> {
    await browser.follow(`${rig.baseUrl}${path}`, NOWHERE);
  }

  it('logs the resident out of every service when the password is reset by mail', async () => {
    const { resident, a, b } = await residentOfTwo();
    const page = new Browser();
    await open(page, '/account/reset');
    assert.equal(await submit(page, { email: resident.email }), 200);
    const link = /\/account\/reset\/confirm\?token=[A-Za-z0-9_-]{43}/.exec(
      (await mailbox.next(resident.email)).text,
    );
    assert.ok(link, 'a reset link was mailed');
    await open(page, link[0]);
    assert.equal(await submit(page, { password: 'a brand new passphrase 2024' }), 200);

    await assertLoggedOut(a);
    await assertLoggedOut(b);
    assert.equal(received.length, 2);
    await assertRefreshRefused(a);
    await assertRefreshRefused(b);
  });

  it('logs the resident out of every service when the account is deleted', async () => {
    const { resident, a, b } = await residentOfTwo();
    const page = new Browser();
    await open(page, '/account/delete');
    assert.equal(await submit(page, { email: resident.email, password: PASSWORD, confirm: 'yes' }), 200);

    await assertLoggedOut(a);
    await assertLoggedOut(b);
    assert.equal(received.length, 2);
    await assertRefreshRefused(a);
    await assertRefreshRefused(b);
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from identity.oidc_models where payload ->> 'accountId' = $1`,
      [resident.id],
    );
    assert.equal(rows[0]?.n, 0, 'no session, grant or token of the account is left');
  });

  /** Another API process's provider: same database and keys, so its tokens verify the same. */
  async function otherProcessProvider(): Promise<Provider> {
    return createProvider({
      db,
      box: rig.box,
      issuer: rig.issuer,
      publicUrl: rig.baseUrl,
      keys: await loadSigningKeys(db, rig.box),
      outbound: new OutboundPolicy(testConfig()),
      proxy: false,
    });
  }

  /** A logger that keeps what it is given. */
  function recordingLog() {
    const lines: { fields: object; message: string }[] = [];
    return { lines, warn: (fields: object, message: string) => void lines.push({ fields, message }) };
  }

  it("withdraws one service's access: that service is logged out, the other keeps working", async () => {
    const { resident, browser, a, b } = await residentOfTwo();
    const log = recordingLog();
    const logouts = await db.transaction((tx) => revokeClientAccess(tx, resident.id, a.rp.clientId));
    await sendLogouts(await otherProcessProvider(), logouts, log);

    await assertLoggedOut(a);
    assert.deepEqual(
      received.map((r) => r.path),
      [logoutPath(a.rp)],
      'the other service hears nothing',
    );
    await assertRefreshRefused(a);
    const refreshed = await oidc.refreshTokenGrant(b.rp.config, b.refreshToken);
    assert.ok(refreshed.access_token, "the other service's refresh token still works");
    assert.deepEqual(log.lines, []);

    // The single sign-on session lives on: no password asked for either service, consent for A.
    const again = await startFlow(b.rp, { scope: 'openid' });
    const back = await browser.follow(again.authorizationUrl, b.rp.redirectUri);
    assert.ok(back.startsWith(b.rp.redirectUri), `B is let through at once, not shown:\n${browser.lastPage}`);
    await browser.follow((await startFlow(a.rp, { scope: 'openid' })).authorizationUrl, a.rp.redirectUri);
    assert.doesNotMatch(browser.lastPage, /name="password"/);
    assert.ok(
      browser.form().actions.some((action) => action.endsWith('/confirm')),
      'asks for consent again',
    );
  });

  it('logs a failed delivery without personal data and still ends every session', async () => {
    const { resident, a, b } = await residentOfTwo();
    failing.add(logoutPath(a.rp));
    const log = recordingLog();
    const logouts = await db.transaction((tx) => endAccountSessions(tx, resident.id, { grants: false }));
    await sendLogouts(await otherProcessProvider(), logouts, log);

    assert.equal(received.length, 2, 'both services were called');
    await assertLoggedOut(b);
    await assertRefreshRefused(a);
    await assertRefreshRefused(b);
    assert.equal(log.lines.length, 1);
    assert.deepEqual(log.lines[0]?.fields, {
      clientId: a.rp.clientId,
      reason: `expected 200 OK from ${a.rp.redirectUri.replace('callback', 'logout')}, got: 500 Internal Server Error`,
    });
    const line = JSON.stringify(log.lines);
    for (const secret of [resident.email, resident.id, a.sub, a.sid]) {
      assert.ok(!line.includes(secret), 'no e-mail address, account or subject in the log');
    }
  });
});
