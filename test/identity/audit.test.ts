/**
 * The audit trail: events recorded with the database or inside a transaction (a tenant's too),
 * listed newest first by account and kind a page at a time, and never holding a secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addAccount } from '../../src/identity/accounts.ts';
import { type AuditKind, listAuditEvents, recordAudit } from '../../src/identity/audit.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

async function countEvents(t: TestDb): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>('select count(*)::int as n from identity.audit_events');
  return rows[0]?.n ?? -1;
}

describe(`audit events (${backend})`, () => {
  let t: TestDb;
  let alice: string;
  let bob: string;
  before(async () => {
    t = await createTestDb();
    const account = (email: string) =>
      addAccount(t.db, { kind: 'staff', email, displayName: email, password: 'correct horse battery' });
    alice = (await account('alice@example.jp')).id;
    bob = (await account('bob@example.jp')).id;
  });
  after(() => t.close());

  it('records an event with who, which client, where from and a detail', async () => {
    const id = await recordAudit(t.db, {
      kind: 'login',
      outcome: 'success',
      accountId: alice,
      clientId: 'portal',
      tenantId: '041009',
      ip: '192.0.2.1',
      detail: { method: 'password', amr: ['pwd', 'otp'], acr: 'urn:machi:loa:2' },
    });
    const [event] = await listAuditEvents(t.db, { accountId: alice, limit: 1 });
    assert.ok(event);
    assert.equal(event.id, id);
    assert.ok(event.at instanceof Date && Math.abs(event.at.getTime() - Date.now()) < 60_000);
    assert.deepEqual(
      { ...event, at: undefined },
      {
        id,
        at: undefined,
        kind: 'login',
        outcome: 'success',
        accountId: alice,
        clientId: 'portal',
        tenantId: '041009',
        ip: '192.0.2.1',
        detail: { method: 'password', amr: ['pwd', 'otp'], acr: 'urn:machi:loa:2' },
      },
    );
  });

  it('refuses a detail holding a password, however deep, and stores nothing', async () => {
    const before = await countEvents(t);
    await assert.rejects(
      recordAudit(t.db, {
        kind: 'login-failed',
        outcome: 'failure',
        detail: { request: { form: { email: 'alice@example.jp', password: 'hunter2' } } },
      }),
      { status: 500, message: /detail\.request\.form\.password looks like a secret/ },
    );
    assert.equal(await countEvents(t), before);
  });

  it('refuses other secret-looking keys and values, in objects and arrays', async () => {
    const refused = [
      { attempts: [{ ok: false }, { otpCode: '123456' }] },
      { accessToken: 'x' },
      { client_secret: 'x' },
      { 'x-api-key': 'x' },
      { authorization_code: 'x' },
      { code: 'x' },
      { signature: 'x' },
      { card: { certificate: 'MII…' } },
      { privateKey: 'x' },
      { note: '-----BEGIN PRIVATE KEY-----\nMIIE…' },
      { idToken2: 'x' },
      { hint: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' },
    ];
    for (const detail of refused) {
      await assert.rejects(
        recordAudit(t.db, { kind: 'step-up', outcome: 'failure', detail }),
        { status: 500 },
        JSON.stringify(detail),
      );
    }
  });

  it('accepts details whose keys only resemble secret words', async () => {
    const detail = {
      keyId: 'k1',
      encoding: 'utf-8',
      scopes: ['openid'],
      passkeyName: null,
      reason: 'expired',
    };
    await recordAudit(t.db, { kind: 'key-rotated', outcome: 'success', detail });
    const [event] = await listAuditEvents(t.db, { kinds: ['key-rotated'], limit: 1 });
    assert.deepEqual(event?.detail, detail);
  });

  it('refuses a kind outside the closed list', async () => {
    await assert.rejects(
      recordAudit(t.db, { kind: 'login-ish' as AuditKind, outcome: 'success' }),
      /unknown audit event kind "login-ish"/,
    );
  });

  it('lists newest first, by account and kinds, a page at a time', async () => {
    await t.db.query('delete from identity.audit_events');
    const kinds: AuditKind[] = ['login-failed', 'login', 'totp-enrolled', 'login', 'logout'];
    const ids: number[] = [];
    for (const kind of kinds) {
      ids.push(
        await recordAudit(t.db, {
          kind,
          outcome: kind === 'login-failed' ? 'failure' : 'success',
          accountId: alice,
        }),
      );
      await recordAudit(t.db, { kind, outcome: 'success', accountId: bob });
    }
    const all = await listAuditEvents(t.db, { accountId: alice, limit: 10 });
    assert.deepEqual(
      all.map((e) => e.kind),
      ['logout', 'login', 'totp-enrolled', 'login', 'login-failed'],
    );
    assert.ok(all.every((e) => e.accountId === alice));

    const logins = await listAuditEvents(t.db, {
      accountId: alice,
      kinds: ['login', 'login-failed'],
      limit: 10,
    });
    assert.deepEqual(
      logins.map((e) => e.id),
      [ids[3], ids[1], ids[0]],
    );

    const page1 = await listAuditEvents(t.db, { limit: 4 });
    const page2 = await listAuditEvents(t.db, { limit: 4, before: page1.at(-1)?.id ?? 0 });
    assert.equal(page1.length, 4);
    assert.equal(page2.length, 4);
    const ordered = [...page1, ...page2].map((e) => e.id);
    assert.deepEqual(
      ordered,
      [...ordered].sort((a, b) => b - a),
    );
    assert.equal(new Set(ordered).size, 8);
  });

  it("records inside a tenant's transaction (which cannot read the trail), not when one rolls back", async () => {
    await t.db.query('delete from identity.audit_events');
    await t.db.withTenant('041009', (tx) =>
      recordAudit(tx, { kind: 'consent-granted', outcome: 'success', accountId: alice, tenantId: '041009' }),
    );
    await assert.rejects(
      t.db.withTenant('041009', (tx) => listAuditEvents(tx, { limit: 10 })),
      /permission denied/,
      "a tenant's transaction cannot read the trail, which holds every tenant's events",
    );
    await assert.rejects(
      t.db.transaction(async (tx) => {
        await recordAudit(tx, { kind: 'consent-revoked', outcome: 'success', accountId: alice });
        throw new Error('the surrounding work failed');
      }),
      /surrounding work failed/,
    );
    const events = await listAuditEvents(t.db, { limit: 10 });
    assert.deepEqual(
      events.map((e) => e.kind),
      ['consent-granted'],
    );
  });
});
