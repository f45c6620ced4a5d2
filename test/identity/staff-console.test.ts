/**
 * The staff console's sign-in through our own provider and the staff API it calls: a console
 * token is for one tenant's staff API (its resource indicator), needs two factors and a staff role
 * there, and the API lets the role decide what the staff member may do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { addAccount, grantStaffRole, issueTotp } from '../../src/identity/index.ts';
import { CONSOLE_CLIENT_ID, staffResource } from '../../src/identity/oidc/resources.ts';
import { addTenant } from '../../src/platform/index.ts';
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

interface Staff {
  id: string;
  email: string;
  secret: string;
}

describe('staff console sign-in and the staff API', () => {
  let rig: IdentityRig;
  let console_: Rp;
  let staff: Staff;

  const addStaff = async (roles: [string, 'admin' | 'editor'][]): Promise<Staff> => {
    const email = `staff-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@city.example.jp`;
    const account = await addAccount(rig.testDb.db, {
      kind: 'staff',
      email,
      displayName: '仙台 職員',
      password: PASSWORD,
    });
    for (const [tenant, role] of roles) await grantStaffRole(rig.testDb.db, tenant, account.id, role);
    const { secret } = await issueTotp(rig.testDb.db, rig.box, account.id, email);
    return { id: account.id, email, secret };
  };

  /** Starts a console sign-in for a tenant; returns the browser on the page it shows and the flow. */
  const openConsole = async (tenant: string, browser = new Browser()) => {
    const flow = await startFlow(console_, {
      scope: 'openid profile staff',
      resource: staffResource(rig.baseUrl, tenant),
    });
    const at = await browser.follow(flow.authorizationUrl, console_.redirectUri);
    return { browser, flow, at };
  };

  /** Password, then the authenticator code, on the login page shown last; returns where it led. */
  const signIn = async (
    browser: Browser,
    who: { email: string; secret?: string | undefined },
    password = PASSWORD,
  ) => {
    let { csrf, actions } = browser.form();
    const login = actions.find((a) => a.endsWith('/login')) as string;
    const at = await browser.follow(`${rig.baseUrl}${login}`, console_.redirectUri, {
      form: { csrf, email: who.email, password },
    });
    if (!who.secret || at.startsWith(console_.redirectUri) || !browser.lastPage.includes('name="code"'))
      return at;
    ({ csrf, actions } = browser.form());
    const pending = /name="pending" value="([^"]+)"/.exec(browser.lastPage)?.[1] as string;
    const totp = actions.find((a) => a.endsWith('/totp')) as string;
    return browser.follow(`${rig.baseUrl}${totp}`, console_.redirectUri, {
      form: { csrf, pending, code: await generate({ secret: who.secret }) },
    });
  };

  const api = (token: string | undefined, path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${rig.baseUrl}/api/v1/staff/tenants/${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });

  let token041009: string;
  let staffBrowser: Browser;

  before(async () => {
    rig = await startIdentityRig();
    await addTenant(rig.testDb.db, { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City' });
    const config = await oidc.discovery(new URL(rig.issuer), CONSOLE_CLIENT_ID, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    console_ = { config, clientId: CONSOLE_CLIENT_ID, redirectUri: `${rig.baseUrl}/console/` };
    staff = await addStaff([
      ['041009', 'admin'],
      ['042021', 'editor'],
    ]);
  });
  after(() => rig.close());

  it('signs staff in with password and authenticator code, without a consent page, for one tenant', async () => {
    const { browser, flow } = await openConsole('041009');
    const back = await signIn(browser, staff);
    assert.ok(
      back.startsWith(console_.redirectUri),
      `back at the console, not at:\n${browser.lastPage.slice(0, 400)}`,
    );
    const tokens = await exchange(console_, flow, back);
    assert.equal(tokens.claims()?.acr, 'urn:machi:loa:mfa');
    token041009 = tokens.access_token;
    staffBrowser = browser;

    const me = await api(token041009, '041009/me');
    assert.equal(me.status, 200);
    const body = (await me.json()) as {
      displayName: string;
      tenant: { name: string };
      roles: string[];
      actions: string[];
    };
    assert.equal(body.displayName, '仙台 職員');
    assert.equal(body.tenant.name, '仙台市');
    assert.deepEqual(body.roles, ['admin']);
    assert.ok(body.actions.includes('clients.manage'));
  });

  it('registers a service for the tenant, shows its secret once, and lists it', async () => {
    const created = await api(token041009, '041009/clients', {
      method: 'POST',
      body: {
        name: '仙台オンライン診療',
        redirectUris: ['https://clinic.example.jp/callback'],
        scopes: ['openid', 'profile'],
      },
    });
    assert.equal(created.status, 201);
    const { clientId, clientSecret } = (await created.json()) as { clientId: string; clientSecret: string };
    assert.match(clientSecret, /^[\w-]{40,}$/);

    const listed = await api(token041009, '041009/clients');
    const { clients } = (await listed.json()) as {
      clients: { clientId: string; name: string; scopes: string[] }[];
    };
    const mine = clients.find((c) => c.clientId === clientId);
    assert.deepEqual(mine?.scopes, ['openid', 'profile']);
    assert.ok(!JSON.stringify(clients).includes(clientSecret), 'the list never carries the secret');

    const audit = await listAuditEvents(rig.testDb.db, { accountId: staff.id, limit: 50 });
    assert.ok(audit.some((e) => e.kind === 'client-registered' && e.clientId === clientId));
  });

  it('answers a bad registration with a problem, registering nothing', async () => {
    const before_ = ((await (await api(token041009, '041009/clients')).json()) as { clients: unknown[] })
      .clients.length;
    for (const body of [
      { name: '' },
      { name: '診療', redirectUris: ['https://a.example.jp/cb'], scopes: ['openid', 'health'] },
      { name: '診療', redirectUris: ['http://clinic.example.jp/cb#x'] },
    ]) {
      const response = await api(token041009, '041009/clients', { method: 'POST', body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    const after_ = ((await (await api(token041009, '041009/clients')).json()) as { clients: unknown[] })
      .clients.length;
    assert.equal(after_, before_);
  });

  it('refuses a token of one municipality at another, even for staff of both', async () => {
    const response = await api(token041009, '042021/me');
    assert.equal(response.status, 403);
    const problem = (await response.json()) as { detail: string };
    assert.match(problem.detail, /another municipality/);
  });

  it('opens the other municipality without a new login, and lets the role decide there', async () => {
    // Staff of both, in the browser signed in above: single sign-on, with a token for 042021 only.
    const { flow, at } = await openConsole('042021', staffBrowser);
    assert.ok(at.startsWith(console_.redirectUri), 'no login page for a two-factor session of its staff');
    const { access_token } = await exchange(console_, flow, at);
    assert.equal((await api(access_token, '042021/me')).status, 200);
    const response = await api(access_token, '042021/clients', {
      method: 'POST',
      body: { name: '石巻サービス', redirectUris: ['https://a.example.jp/cb'] },
    });
    assert.equal(response.status, 403);
    assert.equal((await api(access_token, '042021/clients')).status, 403);
  });

  it('lets an administrator add a staff member, who signs in with the credentials shown once', async () => {
    const email = `new-staff-${Date.now()}@city.example.jp`;
    const added = await api(token041009, '041009/staff', {
      method: 'POST',
      body: { email, displayName: '宮城野 新任', roles: ['editor'] },
    });
    assert.equal(added.status, 201);
    const body = (await added.json()) as { accountId: string; password: string; totpSecret: string };
    assert.ok(body.password.length >= 12 && body.totpSecret.length >= 16);

    const listed = (await (await api(token041009, '041009/staff')).json()) as {
      staff: { email: string; roles: string[] }[];
    };
    assert.deepEqual(listed.staff.find((m) => m.email === email)?.roles, ['editor']);

    const { browser, flow } = await openConsole('041009');
    const back = await signIn(browser, { email, secret: body.totpSecret }, body.password);
    const { access_token } = await exchange(console_, flow, back);
    const me = (await (await api(access_token, '041009/me')).json()) as {
      displayName: string;
      roles: string[];
    };
    assert.deepEqual([me.displayName, me.roles], ['宮城野 新任', ['editor']]);
    assert.equal((await api(access_token, '041009/staff')).status, 403, 'an editor does not manage staff');

    const changed = await api(token041009, `041009/staff/${body.accountId}/roles`, {
      method: 'PUT',
      body: { roles: ['viewer'] },
    });
    assert.deepEqual(await changed.json(), { roles: ['viewer'] });
  });

  it('refuses what would break the staff list: a resident address, own admin role, strangers', async () => {
    const resident = await addResident(rig);
    const asResident = await api(token041009, '041009/staff', {
      method: 'POST',
      body: { email: resident.email, displayName: '住民', roles: ['viewer'] },
    });
    assert.equal(asResident.status, 409);
    const self = await api(token041009, `041009/staff/${staff.id}/roles`, {
      method: 'PUT',
      body: { roles: ['editor'] },
    });
    assert.equal(self.status, 409);
    const stranger = await addStaff([['042021', 'admin']]);
    const other = await api(token041009, `041009/staff/${stranger.id}/roles`, {
      method: 'PUT',
      body: { roles: ['admin'] },
    });
    assert.equal(
      other.status,
      404,
      "staff of another municipality only are not this municipality's to change",
    );
    const bad = await api(token041009, '041009/staff/not-a-uuid/roles', {
      method: 'PUT',
      body: { roles: [] },
    });
    assert.equal(bad.status, 400);
    const badRole = await api(token041009, '041009/staff', {
      method: 'POST',
      body: { email: 'x@city.example.jp', displayName: 'x', roles: ['mayor'] },
    });
    assert.equal(badRole.status, 400);
  });

  it('asks for a bearer token, and refuses unknown ones', async () => {
    const missing = await api(undefined, '041009/me');
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm="machi-staff"/);
    const forged = await api('not-a-token-we-issued', '041009/me');
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('does not open the console for a resident, and issues no code', async () => {
    const resident = await addResident(rig);
    const { browser } = await openConsole('041009');
    const at = await signIn(browser, { email: resident.email });
    assert.ok(!at.startsWith(console_.redirectUri));
    assert.equal(browser.lastStatus, 403);
    assert.match(browser.lastPage, /職員権限がありません/);
  });

  it('does not open the console for staff of another municipality only', async () => {
    const other = await addStaff([['042021', 'admin']]);
    const { browser } = await openConsole('041009');
    const at = await signIn(browser, other);
    assert.ok(!at.startsWith(console_.redirectUri));
    assert.match(browser.lastPage, /職員権限がありません/);
  });

  it("asks a resident's single sign-on session to log in again before the console opens", async () => {
    const resident = await addResident(rig);
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/portal/callback' });
    const browser = new Browser();
    const flow = await startFlow(rp);
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    await signIn(browser, { email: resident.email });
    // The same browser now opens the console: the resident's session does not carry over.
    const { at } = await openConsole('041009', browser);
    assert.ok(!at.startsWith(console_.redirectUri));
    assert.match(browser.lastPage, /name="password"/);
  });

  it('refuses a staff API resource to any other client', async () => {
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/other/callback' });
    const flow = await startFlow(rp, { resource: staffResource(rig.baseUrl, '041009') });
    const browser = new Browser();
    const at = await browser.follow(flow.authorizationUrl, rp.redirectUri);
    assert.equal(new URL(at).searchParams.get('error'), 'invalid_target');
  });
});
