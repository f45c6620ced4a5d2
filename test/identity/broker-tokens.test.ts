/**
 * Services calling the NGSI-LD broker with tokens from our provider: client credentials (a service
 * as itself) and authorization code (a service acting for a resident), each for the broker's
 * resource indicator, confined to the municipality that registered the service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { brokerResource } from '../../src/identity/index.ts';
import { addTenant } from '../../src/platform/index.ts';
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

describe('bearer tokens at the NGSI-LD broker', () => {
  let rig: IdentityRig;
  let n = 0;

  before(async () => {
    rig = await startIdentityRig();
    await addTenant(rig.testDb.db, { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City' });
    await addTenant(rig.testDb.db, { code: '120006', name: '千葉県', nameEn: 'Chiba Prefecture' });
    await addTenant(rig.testDb.db, { code: '122033', name: '市川市', nameEn: 'Ichikawa City' });
  });
  after(() => rig.close());

  const service = (tenantCode = '041009') =>
    relyingParty(rig, {
      redirectUri: `http://127.0.0.1:9/svc${++n}/callback`,
      serviceAccess: true,
      tenantCode,
    });

  const create = (token: string | undefined, tenant = '041009') =>
    fetch(`${rig.baseUrl}/ngsi-ld/v1/entities`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ngsild-tenant': tenant,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        id: `urn:ngsi-ld:EvacuationShelter:${tenant}-${++n}`,
        type: 'EvacuationShelter',
        name: { type: 'Property', value: '避難所' },
      }),
    });

  it('lets a service write with a client-credentials token, which is for the broker by default', async () => {
    const rp = await service();
    const { access_token } = await oidc.clientCredentialsGrant(rp.config, {});
    assert.equal((await create(undefined)).status, 401, 'anonymous callers may not write');
    const response = await create(access_token);
    assert.equal(response.status, 201, await response.text());
  });

  it("refuses a service's token in a municipality it does not belong to", async () => {
    const rp = await service('041009');
    const { access_token } = await oidc.clientCredentialsGrant(rp.config, {});
    const response = await create(access_token, '042021');
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { detail: string }).detail, /another municipality/);
  });

  it("lets a prefecture's service act in the prefecture's municipalities", async () => {
    const rp = await service('040002');
    const { access_token } = await oidc.clientCredentialsGrant(rp.config, {});
    assert.equal((await create(access_token, '041009')).status, 201);
    assert.equal((await create(access_token, '042021')).status, 201);
    assert.equal((await create(access_token, '122033')).status, 403, '市川市 is in 千葉県, not 宮城県');
  });

  it('refuses unknown, revoked and other-API tokens with a Bearer challenge', async () => {
    const forged = await create('made-up-token');
    assert.equal(forged.status, 401);
    assert.match(
      forged.headers.get('www-authenticate') ?? '',
      /^Bearer realm="machi-broker", error="invalid_token"/,
    );

    const rp = await service();
    const { access_token } = await oidc.clientCredentialsGrant(rp.config, {});
    await oidc.tokenRevocation(rp.config, access_token);
    assert.equal((await create(access_token)).status, 401, 'a revoked token stops working at once');

    // A resident's token for userinfo (no resource) is not a broker token.
    const resident = await addResident(rig);
    const portal = await relyingParty(rig, { redirectUri: `http://127.0.0.1:9/portal${++n}/callback` });
    const browser = new Browser();
    const flow = await startFlow(portal);
    await browser.follow(flow.authorizationUrl, portal.redirectUri);
    const tokens = await exchange(
      portal,
      flow,
      await loginAndConsent(browser, rig.baseUrl, portal, resident.email),
    );
    const response = await create(tokens.access_token);
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { detail: string }).detail, /resource=.*ngsi-ld\/v1/);
  });

  it('accepts a token a service got for the broker while acting for a resident, until the grant is gone', async () => {
    const resident = await addResident(rig);
    const rp = await relyingParty(rig, { redirectUri: `http://127.0.0.1:9/app${++n}/callback` });
    const browser = new Browser();
    const flow = await startFlow(rp, { resource: brokerResource(rig.baseUrl), scope: 'openid ngsi-ld' });
    await browser.follow(flow.authorizationUrl, rp.redirectUri);
    const tokens = await exchange(rp, flow, await loginAndConsent(browser, rig.baseUrl, rp, resident.email));
    assert.equal((await create(tokens.access_token)).status, 201);

    await rig.testDb.db.query(
      `delete from identity.oidc_models where model = 'Grant' and payload ->> 'clientId' = $1`,
      [rp.clientId],
    );
    assert.equal((await create(tokens.access_token)).status, 401, 'a token outlives no withdrawn grant');
  });
});
