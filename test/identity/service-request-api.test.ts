/**
 * The staff API for what services ask of residents: the municipality's catalogue of purposes and
 * each service's request (a new version when anything changes), validated before anything is
 * written, answered with problem details, and confined to the municipality's own services and to
 * its administrators.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { currentServiceRequest } from '../../src/consent/index.ts';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { addAccount, grantStaffRole, issueTotp, registerClient } from '../../src/identity/index.ts';
import { CONSOLE_CLIENT_ID, staffResource } from '../../src/identity/oidc/resources.ts';
import { addTenant } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import {
  Browser,
  exchange,
  type IdentityRig,
  PASSWORD,
  type Rp,
  startFlow,
  startIdentityRig,
} from './rig.ts';

const SENDAI = '041009';
const ISHINOMAKI = '042021';

const TELEMEDICINE = {
  id: 'telemedicine',
  nameJa: '医療相談',
  nameEn: 'Medical consultation',
  descriptionJa: '夜間・休日の小児科オンライン相談で、医師がお子さまの記録を確認します。',
  descriptionEn: 'A paediatrician checks your child’s records during an online consultation.',
  dpv: 'dpv:ServiceProvision',
};

const REQUEST = {
  controller: '〇〇小児科クリニック',
  controllerKind: 'private',
  items: [
    {
      category: 'vaccination',
      purpose: 'telemedicine',
      retention: 'P1Y',
      thirdParty: false,
      legalBasis: 'consent',
    },
    {
      category: 'contact',
      purpose: 'telemedicine',
      retention: 90,
      thirdParty: false,
      legalBasis: 'contract',
    },
  ],
};

describe(`staff API for purposes and service requests (${backend})`, () => {
  let rig: IdentityRig;
  let console_: Rp;
  let admin: string;
  let editor: string;
  let clinic: string;
  let elsewhere: string;

  /** A two-factor console sign-in for the tenant; returns the staff API token. */
  const tokenFor = async (roles: [string, 'admin' | 'editor'][], tenant: string) => {
    const email = `staff-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@city.example.jp`;
    const account = await addAccount(rig.testDb.db, {
      kind: 'staff',
      email,
      displayName: '職員',
      password: PASSWORD,
    });
    for (const [code, role] of roles) await grantStaffRole(rig.testDb.db, code, account.id, role);
    const { secret } = await issueTotp(rig.testDb.db, rig.box, account.id, email);
    const browser = new Browser();
    const flow = await startFlow(console_, {
      scope: 'openid profile staff',
      resource: staffResource(rig.baseUrl, tenant),
    });
    await browser.follow(flow.authorizationUrl, console_.redirectUri);
    let { csrf, actions } = browser.form();
    await browser.follow(`${rig.baseUrl}${actions.find((a) => a.endsWith('/login'))}`, console_.redirectUri, {
      form: { csrf, email, password: PASSWORD },
    });
    ({ csrf, actions } = browser.form());
    const pending = /name="pending" value="([^"]+)"/.exec(browser.lastPage)?.[1] as string;
    const back = await browser.follow(
      `${rig.baseUrl}${actions.find((a) => a.endsWith('/totp'))}`,
      console_.redirectUri,
      {
        form: { csrf, pending, code: await generate({ secret }) },
      },
    );
    return (await exchange(console_, flow, back)).access_token;
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

  /** Answers `status` with an RFC 9457 problem; returns it. */
  const problem = async (response: Response, status: number) => {
    assert.equal(response.status, status, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
    return (await response.json()) as { detail?: string; invalidParams?: { name: string; reason: string }[] };
  };

  before(async () => {
    rig = await startIdentityRig();
    await addTenant(rig.testDb.db, { code: ISHINOMAKI, name: '石巻市', nameEn: 'Ishinomaki City' });
    const config = await oidc.discovery(new URL(rig.issuer), CONSOLE_CLIENT_ID, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    console_ = { config, clientId: CONSOLE_CLIENT_ID, redirectUri: `${rig.baseUrl}/console/` };
    admin = await tokenFor([[SENDAI, 'admin']], SENDAI);
    editor = await tokenFor([[ISHINOMAKI, 'editor']], ISHINOMAKI);
    const client = (tenantCode: string, name: string) =>
      registerClient(rig.testDb.db, rig.box, {
        tenantCode,
        name,
        redirectUris: ['https://clinic.example.jp/cb'],
      });
    clinic = (await client(SENDAI, '仙台オンライン診療')).clientId;
    elsewhere = (await client(ISHINOMAKI, '石巻オンライン診療')).clientId;
  });
  after(() => rig.close());

  it('adds a purpose to the catalogue (201), rewords it (200), and lists it', async () => {
    assert.equal(
      (await api(admin, `${SENDAI}/purposes`, { method: 'POST', body: TELEMEDICINE })).status,
      201,
    );
    const reworded = { ...TELEMEDICINE, nameJa: 'オンライン医療相談' };
    const again = await api(admin, `${SENDAI}/purposes`, { method: 'POST', body: reworded });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), reworded);
    const listed = (await (await api(admin, `${SENDAI}/purposes`)).json()) as { purposes: unknown[] };
    assert.deepEqual(listed.purposes, [reworded]);
    const audit = await listAuditEvents(rig.testDb.db, { kinds: ['purpose-defined'], limit: 5 });
    assert.equal(audit.length, 2);
    assert.equal(audit[0]?.tenantId, SENDAI);
  });

  it('refuses a purpose that is not valid, with a problem', async () => {
    for (const body of [
      { ...TELEMEDICINE, id: 'Tele Medicine' },
      { ...TELEMEDICINE, descriptionJa: '' },
      { ...TELEMEDICINE, dpv: 'ServiceProvision' },
      { id: 'x', nameJa: 'x' },
    ]) {
      await problem(await api(admin, `${SENDAI}/purposes`, { method: 'POST', body }), 400);
    }
    const listed = (await (await api(admin, `${SENDAI}/purposes`)).json()) as { purposes: unknown[] };
    assert.equal(listed.purposes.length, 1);
  });

  it('declares a service request and answers its version; the same again keeps it, a change makes the next', async () => {
    await problem(await api(admin, `${SENDAI}/clients/${clinic}/request`), 404);
    const first = await api(admin, `${SENDAI}/clients/${clinic}/request`, { method: 'PUT', body: REQUEST });
    assert.equal(first.status, 200, await first.clone().text());
    const declared = (await first.json()) as {
      version: number;
      changed: boolean;
      items: { retention: string }[];
    };
    assert.equal(declared.version, 1);
    assert.equal(declared.changed, true);
    assert.deepEqual(
      declared.items.map((i) => i.retention),
      ['P90D', 'P1Y'],
      'retention normalised, items in order',
    );

    const same = (await (
      await api(admin, `${SENDAI}/clients/${clinic}/request`, { method: 'PUT', body: REQUEST })
    ).json()) as { version: number; changed: boolean };
    assert.deepEqual([same.version, same.changed], [1, false]);

    const grown = {
      ...REQUEST,
      items: REQUEST.items.map((i) => ({ ...i, thirdParty: i.category === 'vaccination' })),
    };
    const next = (await (
      await api(admin, `${SENDAI}/clients/${clinic}/request`, { method: 'PUT', body: grown })
    ).json()) as { version: number };
    assert.equal(next.version, 2);

    const current = (await (await api(admin, `${SENDAI}/clients/${clinic}/request`)).json()) as {
      version: number;
      controller: string;
    };
    assert.deepEqual([current.version, current.controller], [2, '〇〇小児科クリニック']);
    const stored = await rig.testDb.db.withTenant(SENDAI, (tx) => currentServiceRequest(tx, SENDAI, clinic));
    assert.equal(stored?.version, 2);
    const audit = await listAuditEvents(rig.testDb.db, { kinds: ['service-request-declared'], limit: 5 });
    assert.deepEqual(
      audit.map((e) => e.detail),
      [
        { version: 2, items: 2 },
        { version: 1, items: 2 },
      ],
      'a declaration that changed nothing is not audited',
    );
  });

  it('refuses a request that is not valid, naming every problem, and writes no version', async () => {
    const bad = [
      { ...REQUEST, controllerKind: 'someone' },
      { ...REQUEST, items: [] },
      { ...REQUEST, items: [{ ...REQUEST.items[0], retention: 'forever' }] },
      { ...REQUEST, items: [{ ...REQUEST.items[0], legalBasis: 'legitimate-interest' }] },
      { ...REQUEST, items: [{ ...REQUEST.items[0], actions: ['delete'] }] },
    ];
    for (const body of bad) {
      await problem(await api(admin, `${SENDAI}/clients/${clinic}/request`, { method: 'PUT', body }), 400);
    }
    // Valid in form, not in substance: checked by consent, every problem listed.
    const response = await api(admin, `${SENDAI}/clients/${clinic}/request`, {
      method: 'PUT',
      body: {
        ...REQUEST,
        items: [
          {
            category: 'health',
            purpose: 'telemedicine',
            retention: 'P1Y',
            thirdParty: false,
            legalBasis: 'contract',
          },
          {
            category: 'dna',
            purpose: 'telemedicine',
            retention: 'P1Y',
            thirdParty: false,
            legalBasis: 'consent',
          },
          {
            category: 'contact',
            purpose: 'marketing',
            retention: 'P1Y',
            thirdParty: false,
            legalBasis: 'consent',
          },
        ],
      },
    });
    const { invalidParams } = await problem(response, 400);
    const reasons = (invalidParams ?? []).map((p) => `${p.name}: ${p.reason}`).join('\n');
    assert.match(reasons, /items\[0\]\.legalBasis: .*要配慮個人情報/);
    assert.match(reasons, /items\[1\]\.category: "dna" is not a data category/);
    assert.match(reasons, /"marketing" is not in the tenant's catalogue of purposes/);
    const current = (await (await api(admin, `${SENDAI}/clients/${clinic}/request`)).json()) as {
      version: number;
    };
    assert.equal(current.version, 2);
  });

  it("answers 404 for another municipality's service, as for none", async () => {
    for (const method of ['GET', 'PUT']) {
      const response = await api(admin, `${SENDAI}/clients/${elsewhere}/request`, {
        method,
        ...(method === 'PUT' ? { body: REQUEST } : {}),
      });
      await problem(response, 404);
    }
    await problem(
      await api(admin, `${SENDAI}/clients/no-such-client/request`, { method: 'PUT', body: REQUEST }),
      404,
    );
    const stored = await rig.testDb.db.withTenant(ISHINOMAKI, (tx) =>
      currentServiceRequest(tx, ISHINOMAKI, elsewhere),
    );
    assert.equal(stored, undefined);
  });

  it('lets only administrators in, with a token for this municipality', async () => {
    await problem(await api(editor, `${ISHINOMAKI}/purposes`), 403);
    await problem(await api(editor, `${ISHINOMAKI}/purposes`, { method: 'POST', body: TELEMEDICINE }), 403);
    await problem(await api(editor, `${ISHINOMAKI}/clients/${elsewhere}/request`), 403);
    await problem(
      await api(editor, `${ISHINOMAKI}/clients/${elsewhere}/request`, { method: 'PUT', body: REQUEST }),
      403,
    );
    await problem(await api(admin, `${ISHINOMAKI}/purposes`), 403);
    await problem(await api(undefined, `${SENDAI}/purposes`), 401);
  });
});
