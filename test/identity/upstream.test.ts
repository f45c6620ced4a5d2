/**
 * Logging in through upstream OpenID providers: a card-backed one like デジタル認証アプリ that may
 * make accounts from its verified claims, and one like LINE Login that only links to an account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACR, loadUpstreamConfig } from '../../src/identity/index.ts';
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
import { startTestIdp, type TestIdp } from './upstream-idp.ts';

async function clickUpstream(browser: Browser, rig: IdentityRig, rp: Rp, id: string): Promise<string> {
  const { csrf, actions } = browser.form();
  const action = actions.find((a) => a.endsWith(`/upstream/${id}`));
  assert.ok(action, `the login page offers ${id}`);
  return browser.follow(`${rig.baseUrl}${action}`, rp.redirectUri, { form: { csrf } });
}

describe('upstream login', () => {
  let rig: IdentityRig;
  let card: TestIdp;
  let line: TestIdp;
  before(async () => {
    card = await startTestIdp({ acr: 'aal3' });
    line = await startTestIdp();
    const upstream = loadUpstreamConfig({
      UPSTREAM_OIDC: JSON.stringify([
        {
          id: 'digital-auth',
          name: 'デジタル認証アプリ',
          nameEn: 'the Digital Authentication App',
          issuer: card.issuer,
          clientId: card.clientId,
          clientSecret: card.clientSecret,
          scope: 'openid name address birthdate gender',
          acrValues: 'aal3',
          acr: 'card',
          amr: ['hwk', 'pin'],
          createAccounts: true,
          verifiedClaims: true,
        },
        {
          id: 'line',
          name: 'LINE',
          issuer: line.issuer,
          clientId: line.clientId,
          clientSecret: line.clientSecret,
          scope: 'openid profile',
        },
      ]),
    });
    rig = await startIdentityRig({}, { upstream });
  });
  after(async () => {
    await rig.close();
    await card.close();
    await line.close();
  });

  it('makes a card-verified account from デジタル認証アプリ, in the municipality of the verified address', async () => {
    card.user = {
      sub: 'ppid-0001',
      claims: {
        name: '青葉 太郎',
        address: '宮城県仙台市青葉区国分町3-7-1',
        birthdate: '1950-04-01',
        gender: '1',
      },
    };
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/da/callback', name: '健康アプリ' });
    const browser = new Browser();
    const flow = await startFlow(rp, { acr_values: ACR.card });
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    assert.match(browser.lastPage, /デジタル認証アプリでログイン/);
    const at = await clickUpstream(browser, rig, rp, 'digital-auth');
    const request = card.requests.at(-1) as URLSearchParams;
    assert.equal(request.get('code_challenge_method'), 'S256');
    assert.equal(request.get('acr_values'), 'aal3');
    assert.equal(request.get('scope'), 'openid name address birthdate gender');
    const tokens = await exchange(rp, flow, await consentIfAsked(browser, rig.baseUrl, rp, at));
    const claims = tokens.claims();
    assert.equal(claims?.acr, ACR.card, 'a card-backed login satisfies acr_values=card');
    assert.deepEqual(claims?.amr, ['hwk', 'pin']);
    const { fetchUserInfo } = await import('openid-client');
    const info = await fetchUserInfo(rp.config, tokens.access_token, String(claims?.sub));
    assert.equal(info.name, '青葉 太郎');
    assert.equal(info.home_municipality, '041009');

    // Again, in another browser: the same account (the same sub at this service).
    const again = new Browser();
    const flow2 = await startFlow(rp);
    await again.follow(flow2.authorizationUrl, rp.redirectUri);
    const sub2 = (
      await exchange(
        rp,
        flow2,
        await consentIfAsked(again, rig.baseUrl, rp, await clickUpstream(again, rig, rp, 'digital-auth')),
      )
    ).claims()?.sub;
    assert.equal(sub2, claims?.sub);
  });

  it('makes no account for an address outside the deployment, and says why', async () => {
    card.user = { sub: 'ppid-0002', claims: { name: '那覇 花子', address: '沖縄県那覇市泉崎1-1-1' } };
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/da2/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    await clickUpstream(browser, rig, rp, 'digital-auth');
    assert.equal(browser.lastStatus, 401);
    assert.match(browser.lastPage, /お住まいの市区町村はこの基盤に参加していない/);
  });

  it('links a LINE account only to a resident who logged in another way, then logs in with LINE alone', async () => {
    line.user = { sub: 'U1234567890abcdef', claims: { name: 'LINE表示名' } };
    const resident = await addResident(rig);
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/line/callback' });

    const stranger = new Browser();
    await stranger.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    await clickUpstream(stranger, rig, rp, 'line');
    assert.equal(stranger.lastStatus, 401);
    assert.match(stranger.lastPage, /このLINEのアカウントはまだ連携されていません/);

    const browser = new Browser();
    const first = await startFlow(rp);
    await browser.follow(first.authorizationUrl, rp.redirectUri);
    const { csrf, actions } = browser.form();
    const loggedIn = await browser.follow(
      `${rig.baseUrl}${actions.find((a) => a.endsWith('/login'))}`,
      rp.redirectUri,
      {
        form: { csrf, email: resident.email, password: PASSWORD },
      },
    );
    const subByPassword = (
      await exchange(rp, first, await consentIfAsked(browser, rig.baseUrl, rp, loggedIn))
    ).claims()?.sub;
    // Logged in: the login page again (prompt=login), LINE links to this account.
    const linking = await startFlow(rp, { prompt: 'login' });
    await browser.follow(linking.authorizationUrl, rp.redirectUri);
    await exchange(
      rp,
      linking,
      await consentIfAsked(browser, rig.baseUrl, rp, await clickUpstream(browser, rig, rp, 'line')),
    );

    const phone = new Browser();
    const byLine = await startFlow(rp);
    await phone.follow(byLine.authorizationUrl, rp.redirectUri);
    const claims = (
      await exchange(
        rp,
        byLine,
        await consentIfAsked(phone, rig.baseUrl, rp, await clickUpstream(phone, rig, rp, 'line')),
      )
    ).claims();
    assert.equal(claims?.sub, subByPassword, 'LINE now names the same resident');
    assert.equal(claims?.acr, ACR.password);
  });

  it('refuses a replayed upstream answer', async () => {
    card.user = { sub: 'ppid-0001', claims: { name: '青葉 太郎', address: '宮城県仙台市青葉区国分町3-7-1' } };
    const rp = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/replay/callback' });
    const browser = new Browser();
    await browser.follow((await startFlow(rp)).authorizationUrl, rp.redirectUri);
    const { csrf, actions } = browser.form();
    const started = await browser.request(
      `${rig.baseUrl}${actions.find((a) => a.endsWith('/upstream/digital-auth'))}`,
      {
        form: { csrf },
      },
    );
    const authorize = String(started.headers.get('location'));
    const callback = String((await fetch(authorize, { redirect: 'manual' })).headers.get('location'));
    assert.equal((await browser.request(callback)).status, 303);
    const replay = await browser.request(callback);
    assert.equal(replay.status, 400);
  });
});
