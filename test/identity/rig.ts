/**
 * A Machi with its OpenID provider on a known 127.0.0.1 port (the issuer is part of every token),
 * relying parties as openid-client sees them, and a browser stand-in that keeps cookies and
 * follows the provider's redirects: enough to drive the login, consent and logout flows over real
 * HTTP the way a resident's browser would.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import {
  addAccount,
  grantStaffRole,
  issueTotp,
  type JpkiConfig,
  type MailConfig,
  type NewClient,
  registerClient,
  type StaffRole,
  type UpstreamConfig,
} from '../../src/identity/index.ts';
import { buildApp } from '../../src/main.ts';
import {
  addTenant,
  type DataKeys,
  deploymentMasterKeys,
  openDataKeys,
  openSecretBox,
  type SecretBox,
} from '../../src/platform/index.ts';
import { createTestDb, type TestDb, testConfig } from '../helpers/db.ts';
import { freePort } from '../helpers/machi.ts';

export const PASSWORD = 'correct horse battery staple';

export interface IdentityRig {
  baseUrl: string;
  issuer: string;
  app: FastifyInstance;
  testDb: TestDb;
  box: SecretBox;
  /** The tenants' data keys, as the app has them (for importing residents' sensitive data). */
  keys: DataKeys;
  /** Stops the app and starts a new one on the same database and port, as a restart would. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startIdentityRig(
  overrides: Record<string, string> = {},
  options: {
    jpki?: JpkiConfig;
    upstream?: UpstreamConfig;
    mail?: MailConfig;
    /** PUBLIC_URL's host name (WebAuthn refuses an IP address: passkey tests use `localhost`). */
    host?: string;
  } = {},
): Promise<IdentityRig> {
  const testDb = await createTestDb();
  await addTenant(testDb.db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
  await addTenant(testDb.db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' });
  const port = await freePort();
  const baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const config = testConfig({ PORT: String(port), PUBLIC_URL: baseUrl, ...overrides });
  const box = await openSecretBox(config);
  const keys = await openDataKeys(testDb.db, deploymentMasterKeys(config, box));
  const start = async () => {
    const app = await buildApp({
      config,
      db: testDb.db,
      box,
      jpki: options.jpki,
      upstream: options.upstream,
      mail: options.mail,
    });
    await app.listen({ host: '127.0.0.1', port });
    return app;
  };
  const rig: IdentityRig = {
    baseUrl,
    issuer: `${baseUrl}/oidc`,
    app: await start(),
    testDb,
    box,
    keys,
    async restart() {
      await rig.app.close();
      rig.app = await start();
      await settleConnections(baseUrl);
    },
    async close() {
      await rig.app.close();
      await testDb.close();
    },
  };
  return rig;
}

/**
 * After a restart on the same port, fetch's pool may still hold keep-alive sockets the old server
 * closed; a request on one fails with "fetch failed". Probing until a request gets through uses
 * those sockets up, so the test's own requests go to the new server.
 */
export async function settleConnections(baseUrl: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await (await fetch(`${baseUrl}/healthz`)).arrayBuffer();
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

let residents = 0;
export async function addResident(
  rig: IdentityRig,
  name = '仙台 花子',
): Promise<{ id: string; email: string }> {
  const email = `resident${++residents}-${Date.now()}@example.jp`;
  const account = await addAccount(rig.testDb.db, {
    kind: 'resident',
    email,
    displayName: name,
    password: PASSWORD,
    homeTenantCode: '041009',
  });
  return { id: account.id, email };
}

export interface Rp {
  config: oidc.Configuration;
  clientId: string;
  redirectUri: string;
}

/** Registers a client the way staff do and discovers the provider the way a vendor's app does. */
export async function relyingParty(
  rig: IdentityRig,
  input: Partial<NewClient> & { redirectUri: string },
): Promise<Rp> {
  const { clientId, clientSecret } = await registerClient(rig.testDb.db, rig.box, {
    tenantCode: '041009',
    name: 'テストサービス',
    redirectUris: [input.redirectUri],
    scopes: ['openid', 'profile', 'email', 'municipality', 'offline_access'],
    ...input,
  });
  const config = await oidc.discovery(
    new URL(rig.issuer),
    clientId,
    clientSecret,
    clientSecret ? undefined : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  return { config, clientId, redirectUri: input.redirectUri };
}

/** A browser: cookies per name (the provider scopes them by path; sending more is harmless). */
export class Browser {
  readonly cookies = new Map<string, string>();
  lastPage = '';
  lastStatus = 0;

  /** `form`: a field given a list is sent once per value (checkboxes of one name). */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string | string[]> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { 'accept-language': 'ja' };
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(
        Object.entries(init.form).flatMap(([k, v]) =>
          (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]),
        ),
      ).toString();
    }
    const response = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...rest] = (pair as string).split('=');
      const value = rest.join('=');
      const expired = attributes.some(
        (a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a),
      );
      if (expired || value === '') this.cookies.delete((name as string).trim());
      else this.cookies.set((name as string).trim(), value);
    }
    this.lastStatus = response.status;
    return response;
  }

  /** Follows redirects until one leaves the provider for `stopAt`, or a page is shown. */
  async follow(
    url: string,
    stopAt: string,
    init: { form?: Record<string, string | string[]> } = {},
  ): Promise<string> {
    let next = url;
    let response = await this.request(next, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (!location) {
        this.lastPage = await response.text();
        return next;
      }
      next = new URL(location, next).href;
      if (next.startsWith(stopAt)) return next;
      response = await this.request(next);
    }
    throw new Error('too many redirects');
  }

  /** The CSRF token and form actions of the page shown last. */
  form(): { csrf: string; actions: string[] } {
    const csrf = /name="csrf" value="([^"]+)"/.exec(this.lastPage)?.[1];
    assert.ok(csrf, `no form on the page:\n${this.lastPage}`);
    const actions = [...this.lastPage.matchAll(/<form method="post" action="([^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    return { csrf, actions };
  }
}

export interface Flow {
  authorizationUrl: string;
  verifier: string;
  state: string;
  nonce: string;
}

export async function startFlow(rp: Rp, params: Record<string, string> = {}): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile email municipality',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { authorizationUrl: url.href, verifier, state, nonce };
}

/**
 * Agrees on the consent page shown last, unless `at` is already the service's callback. On a
 * purpose consent page (a service that declared what it requests) `items` are the boxes ticked,
 * as `category:purpose`; none by default, as a resident who only logs in.
 */
export async function consentIfAsked(
  browser: Browser,
  baseUrl: string,
  rp: Rp,
  at: string,
  items: string[] = [],
): Promise<string> {
  if (at.startsWith(rp.redirectUri)) return at;
  const offer = browser.form().actions.find((a) => a.endsWith('/passkey/skip') || a.endsWith('/skip'));
  if (offer) {
    // On a host where passkeys work (not an IP address), the provider offers one after a password
    // login; the resident says "not now".
    const next = await browser.follow(`${baseUrl}${offer}`, rp.redirectUri, {
      form: { csrf: browser.form().csrf },
    });
    return consentIfAsked(browser, baseUrl, rp, next, items);
  }
  const { csrf, actions } = browser.form();
  const confirm = actions.find((a) => a.endsWith('/confirm'));
  assert.ok(confirm, `expected the consent page, got:\n${browser.lastPage}`);
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(browser.lastPage)?.[1];
  const version = field('version');
  const shown = field('shown');
  const purposes: Record<string, string | string[]> = version && shown ? { version, shown, item: items } : {};
  const back = await browser.follow(`${baseUrl}${confirm}`, rp.redirectUri, { form: { csrf, ...purposes } });
  assert.ok(back.startsWith(rp.redirectUri), `expected a redirect to the service, got ${back}`);
  return back;
}

/** Log in on the login page shown last (unless already logged in), consent if asked; returns the callback URL with the code. */
export async function loginAndConsent(
  browser: Browser,
  baseUrl: string,
  rp: Rp,
  email: string,
  password = PASSWORD,
  items: string[] = [],
): Promise<string> {
  const { csrf, actions } = browser.form();
  const login = actions.find((a) => a.endsWith('/login'));
  const at = login
    ? await browser.follow(`${baseUrl}${login}`, rp.redirectUri, { form: { csrf, email, password } })
    : '';
  return consentIfAsked(browser, baseUrl, rp, at, items);
}

export async function exchange(rp: Rp, flow: Flow, callback: string) {
  return oidc.authorizationCodeGrant(rp.config, new URL(callback), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
  });
}

/** The resident portal, Machi's own public client (PKCE, no secret), as its page's script uses it. */
export async function portalParty(rig: Pick<IdentityRig, 'issuer' | 'baseUrl'>): Promise<Rp> {
  const config = await oidc.discovery(new URL(rig.issuer), 'machi-portal', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return { config, clientId: 'machi-portal', redirectUri: `${rig.baseUrl}/` };
}

/**
 * A token for the resident's own API (My Page), got by the portal in the resident's browser: a
 * login unless the browser has a session already; never a consent page (the portal is Machi's own).
 */
export async function myPageToken(
  rig: Pick<IdentityRig, 'issuer' | 'baseUrl'>,
  browser: Browser,
  email: string,
  password = PASSWORD,
): Promise<string> {
  const portal = await portalParty(rig);
  const flow = await startFlow(portal, { scope: 'openid profile me', resource: `${rig.baseUrl}/api/v1/me` });
  // Every page of the provider is under the portal's redirect URI (`/`): the way back is `/?code=…`.
  const back = { ...portal, redirectUri: `${rig.baseUrl}/?` };
  const at = await browser.follow(flow.authorizationUrl, back.redirectUri);
  const callback = at.startsWith(back.redirectUri)
    ? at
    : await loginAndConsent(browser, rig.baseUrl, back, email, password);
  return (await exchange(portal, flow, callback)).access_token;
}

/** A staff member with an authenticator, holding roles in tenants. */
export async function addStaffMember(
  rig: IdentityRig,
  roles: [string, StaffRole][],
  displayName = '仙台 職員',
): Promise<{ id: string; email: string; secret: string }> {
  const email = `staff-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@city.example.jp`;
  const account = await addAccount(rig.testDb.db, { kind: 'staff', email, displayName, password: PASSWORD });
  for (const [tenant, role] of roles) await grantStaffRole(rig.testDb.db, tenant, account.id, role);
  const { secret } = await issueTotp(rig.testDb.db, rig.box, account.id, email);
  return { id: account.id, email, secret };
}

/** A console token for a tenant's staff API: password and authenticator code at the login pages. */
export async function consoleToken(
  rig: IdentityRig,
  tenant: string,
  who: { email: string; secret: string },
): Promise<string> {
  const config = await oidc.discovery(new URL(rig.issuer), 'machi-console', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const console_: Rp = { config, clientId: 'machi-console', redirectUri: `${rig.baseUrl}/console/` };
  const browser = new Browser();
  const flow = await startFlow(console_, {
    scope: 'openid profile staff',
    resource: `${rig.baseUrl}/api/v1/staff/tenants/${tenant}`,
  });
  await browser.follow(flow.authorizationUrl, console_.redirectUri);
  let { csrf, actions } = browser.form();
  const login = actions.find((a) => a.endsWith('/login')) as string;
  await browser.follow(`${rig.baseUrl}${login}`, console_.redirectUri, {
    form: { csrf, email: who.email, password: PASSWORD },
  });
  ({ csrf, actions } = browser.form());
  const pending = /name="pending" value="([^"]+)"/.exec(browser.lastPage)?.[1] as string;
  const totp = actions.find((a) => a.endsWith('/totp')) as string;
  const back = await browser.follow(`${rig.baseUrl}${totp}`, console_.redirectUri, {
    form: { csrf, pending, code: await generate({ secret: who.secret }) },
  });
  return (await exchange(console_, flow, back)).access_token;
}
