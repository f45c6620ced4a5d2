/**
 * The OpenID provider seen from outside, as vendors' services see it: discovery, login with
 * consent, single sign-on across two services with different pairwise subjects, PKCE, refresh
 * token rotation, client credentials, introspection, revocation and back-channel logout.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { ACR_VALUES, rotateSigningKeys } from '../../src/identity/index.ts';
import {
  addResident,
  Browser,
  exchange,
  type IdentityRig,
  loginAndConsent,
  relyingParty,
  startFlow,
  startIdentityRig,
} from './rig.ts';

describe('OpenID provider', () => {
  let rig: IdentityRig;
  before(async () => {
    rig = await startIdentityRig();
  });
  after(() => rig.close());

  it('publishes a discovery document a vendor can integrate from', async () => {
    const response = await fetch(`${rig.issuer}/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as Record<string, unknown>;
    assert.equal(doc.issuer, rig.issuer);
    assert.deepEqual(doc.subject_types_supported, ['public', 'pairwise']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(doc.acr_values_supported, ACR_VALUES);
    assert.equal(doc.backchannel_logout_supported, true);
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
    ]) {
      assert.match(String(doc[endpoint]), new RegExp(`^${rig.issuer}/`), endpoint);
    }
    assert.ok((doc.grant_types_supported as string[]).includes('client_credentials'));
    assert.ok((doc.claims_supported as string[]).includes('home_municipality'));
    const jwks = (await (await fetch(String(doc.jwks_uri))).json()) as {
      keys: { kid: string; d?: string }[];
    };
    assert.equal(jwks.keys.length, 2, 'the current key and the next one are published');
    assert.ok(
      jwks.keys.every((k) => k.d === undefined),
      'no private part is published',
    );
  });

  it('logs a resident into two services with one password entry, each seeing a different sub', async () => {
    const resident = await addResident(rig);
    const a = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/a/callback',
      name: '遠隔診療サービス',
    });
    const b = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/b/callback',
      name: '母子手帳アプリ',
    });
    const browser = new Browser();

    const flowA = await startFlow(a);
    await browser.follow(flowA.authorizationUrl, a.redirectUri);
    assert.match(browser.lastPage, /<html lang="ja">/);
    assert.match(browser.lastPage, /「遠隔診療サービス」を利用するためにログインしてください/);
    const tokensA = await exchange(a, flowA, await loginAndConsent(browser, rig.baseUrl, a, resident.email));
    const claimsA = tokensA.claims();
    assert.ok(claimsA);
    assert.equal(claimsA.acr, 'urn:machi:loa:password');
    assert.deepEqual(claimsA.amr, ['pwd']);

    const flowB = await startFlow(b);
    await browser.follow(flowB.authorizationUrl, b.redirectUri);
    assert.doesNotMatch(browser.lastPage, /name="password"/, 'no password is asked the second time');
    assert.match(browser.lastPage, /「母子手帳アプリ」に次の情報を提供します/);
    const { csrf, actions } = browser.form();
    const callback = await browser.follow(
      `${rig.baseUrl}${actions.find((x) => x.endsWith('/confirm'))}`,
      b.redirectUri,
      {
        form: { csrf },
      },
    );
    const tokensB = await exchange(b, flowB, callback);
    const claimsB = tokensB.claims();
    assert.ok(claimsB);
    assert.notEqual(claimsA.sub, claimsB.sub, 'pairwise: two services cannot join their records by sub');
    assert.notEqual(claimsA.sub, resident.id, 'the account id itself is never a sub');

    const info = await oidc.fetchUserInfo(b.config, tokensB.access_token, claimsB.sub);
    assert.equal(info.name, '仙台 花子');
    assert.equal(info.email, resident.email);
    assert.equal(info.home_municipality, '041009');
  });

  it('shows the login page again with an error for a wrong password, and opens no session', async () => {
    const resident = await addResident(rig);
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/w/callback' });
    const browser = new Browser();
    const flow = await startFlow(a);
    await browser.follow(flow.authorizationUrl, a.redirectUri);
    const { csrf, actions } = browser.form();
    const login = actions.find((x) => x.endsWith('/login')) as string;
    await browser.follow(`${rig.baseUrl}${login}`, a.redirectUri, {
      form: { csrf, email: resident.email, password: 'not the password at all' },
    });
    assert.equal(browser.lastStatus, 401);
    assert.match(browser.lastPage, /メールアドレスまたはパスワードが違います/);
    // A new request still meets the login page: nothing was remembered.
    await browser.follow((await startFlow(a)).authorizationUrl, a.redirectUri);
    assert.match(browser.lastPage, /name="password"/);
  });

  it('refuses a login form posted without its CSRF token', async () => {
    const resident = await addResident(rig);
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/c/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(a)).authorizationUrl, a.redirectUri);
    const login = browser.form().actions.find((x) => x.endsWith('/login')) as string;
    await browser.follow(`${rig.baseUrl}${login}`, a.redirectUri, {
      form: { csrf: 'forged', email: resident.email, password: 'whatever it is' },
    });
    assert.equal(browser.lastStatus, 403);
  });

  it('requires PKCE, also from confidential clients', async () => {
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/p/callback' });
    const url = new URL(
      oidc.buildAuthorizationUrl(a.config, { redirect_uri: a.redirectUri, scope: 'openid', state: 'x' }),
    );
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(String(response.headers.get('location')));
    assert.equal(location.origin + location.pathname, a.redirectUri);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(String(location.searchParams.get('error_description')), /PKCE/);
  });

  it('rotates refresh tokens and refuses a used one', async () => {
    const resident = await addResident(rig);
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/r/callback' });
    const browser = new Browser();
    const flow = await startFlow(a, { scope: 'openid offline_access', prompt: 'consent' });
    await browser.follow(flow.authorizationUrl, a.redirectUri);
    const tokens = await exchange(a, flow, await loginAndConsent(browser, rig.baseUrl, a, resident.email));
    assert.ok(tokens.refresh_token);
    const renewed = await oidc.refreshTokenGrant(a.config, tokens.refresh_token);
    assert.ok(renewed.refresh_token);
    assert.notEqual(renewed.refresh_token, tokens.refresh_token);
    await assert.rejects(oidc.refreshTokenGrant(a.config, tokens.refresh_token), (error: unknown) => {
      assert.equal((error as { error?: string }).error, 'invalid_grant');
      return true;
    });
  });

  it('gives services tokens of their own (client credentials) that only they can introspect or revoke', async () => {
    const service = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/s/callback',
      serviceAccess: true,
    });
    const other = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/o/callback',
      serviceAccess: true,
    });
    const { access_token: token } = await oidc.clientCredentialsGrant(service.config, {});
    assert.equal((await oidc.tokenIntrospection(service.config, token)).active, true);
    assert.equal(
      (await oidc.tokenIntrospection(other.config, token)).active,
      false,
      'another service learns nothing',
    );
    await oidc.tokenRevocation(other.config, token).catch(() => {});
    assert.equal(
      (await oidc.tokenIntrospection(service.config, token)).active,
      true,
      'another service cannot revoke it',
    );
    await oidc.tokenRevocation(service.config, token);
    assert.equal((await oidc.tokenIntrospection(service.config, token)).active, false);
  });

  it('logs out of every service by back-channel when the resident logs out', async () => {
    const received: { path: string; token: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({
          path: String(req.url),
          token: String(new URLSearchParams(body).get('logout_token')),
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    try {
      const resident = await addResident(rig);
      const portal = await relyingParty(rig, {
        redirectUri: `http://127.0.0.1:${port}/portal/callback`,
        backchannelLogoutUri: `http://127.0.0.1:${port}/portal/logout`,
        postLogoutRedirectUris: [`http://127.0.0.1:${port}/portal/bye`],
      });
      const app = await relyingParty(rig, {
        redirectUri: `http://127.0.0.1:${port}/app/callback`,
        backchannelLogoutUri: `http://127.0.0.1:${port}/app/logout`,
      });
      const browser = new Browser();
      const flowP = await startFlow(portal);
      await browser.follow(flowP.authorizationUrl, portal.redirectUri);
      const tokensP = await exchange(
        portal,
        flowP,
        await loginAndConsent(browser, rig.baseUrl, portal, resident.email),
      );
      const flowA = await startFlow(app);
      await browser.follow(flowA.authorizationUrl, app.redirectUri);
      const tokensA = await exchange(
        app,
        flowA,
        await loginAndConsent(browser, rig.baseUrl, app, resident.email),
      );

      const logout = oidc.buildEndSessionUrl(portal.config, {
        id_token_hint: String(tokensP.id_token),
        post_logout_redirect_uri: `http://127.0.0.1:${port}/portal/bye`,
      });
      await browser.follow(logout.href, `http://127.0.0.1:${port}/portal/bye`);
      const { actions } = {
        actions: [...browser.lastPage.matchAll(/action="([^"]+)"/g)].map((m) => m[1] as string),
      };
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(browser.lastPage)?.[1] as string;
      assert.ok(xsrf, 'the logout page asks for confirmation');
      const done = await browser.follow(
        new URL(actions[0] as string, rig.issuer).href,
        `http://127.0.0.1:${port}/portal/bye`,
        {
          form: { xsrf, logout: 'yes' },
        },
      );
      assert.equal(done, `http://127.0.0.1:${port}/portal/bye`);

      const jwks = createRemoteJWKSet(new URL(`${rig.issuer}/jwks`));
      assert.deepEqual(received.map((r) => r.path).sort(), ['/app/logout', '/portal/logout']);
      for (const { path, token } of received) {
        const rp = path.startsWith('/app') ? app : portal;
        const sub = (path.startsWith('/app') ? tokensA : tokensP).claims()?.sub;
        const { payload } = await jwtVerify(token, jwks, { issuer: rig.issuer, audience: rp.clientId });
        assert.equal(payload.sub, sub);
        assert.ok(
          (payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout'],
        );
      }
      // The session is gone: the next login asks for the password again.
      await browser.follow((await startFlow(app)).authorizationUrl, app.redirectUri);
      assert.match(browser.lastPage, /name="password"/);
    } finally {
      receiver.close();
    }
  });

  it('publishes a new key before it signs, then signs with it after the rotation', async () => {
    const jwksUrl = `${rig.issuer}/jwks`;
    const before = ((await (await fetch(jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
    const rotation = await rotateSigningKeys(rig.testDb.db, rig.box);
    assert.equal(rotation.current, before[1], 'the key published as next is the one that now signs');
    let after: string[] = [];
    for (let i = 0; i < 50 && after[0] !== rotation.current; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = ((await (await fetch(jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    }
    assert.deepEqual(
      after,
      [rotation.current, rotation.next, before[0]],
      'current, next, and the retired one',
    );

    const service = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/k/callback',
      serviceAccess: true,
    });
    const resident = await addResident(rig);
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/k2/callback' });
    const browser = new Browser();
    const flow = await startFlow(a);
    await browser.follow(flow.authorizationUrl, a.redirectUri);
    const tokens = await exchange(a, flow, await loginAndConsent(browser, rig.baseUrl, a, resident.email));
    const header = JSON.parse(
      Buffer.from(String(tokens.id_token).split('.')[0] as string, 'base64url').toString(),
    );
    assert.equal(header.kid, rotation.current);
    assert.ok(service);
    const audited = await listAuditEvents(rig.testDb.db, { kinds: ['key-rotated'], limit: 1 });
    assert.equal((audited[0]?.detail as { current?: string } | undefined)?.current, rotation.current);
  });

  it('keeps single sign-on across a restart: sessions and grants are in the database', async () => {
    const resident = await addResident(rig);
    const a = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/restart/callback' });
    const browser = new Browser();
    const flow = await startFlow(a);
    await browser.follow(flow.authorizationUrl, a.redirectUri);
    const before = (
      await exchange(a, flow, await loginAndConsent(browser, rig.baseUrl, a, resident.email))
    ).claims();
    const consents = await listAuditEvents(rig.testDb.db, {
      accountId: resident.id,
      kinds: ['consent-granted'],
      limit: 5,
    });
    assert.equal(consents.length, 1, 'the consent is audited');
    await rig.restart();
    const again = await startFlow(a);
    const callback = await browser.follow(again.authorizationUrl, a.redirectUri);
    assert.ok(callback.startsWith(a.redirectUri), 'no login page, no consent page after the restart');
    assert.equal((await exchange(a, again, callback)).claims()?.sub, before?.sub);
  });
});
