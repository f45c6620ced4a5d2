/**
 * Attacks across municipalities and by staff: a consent given in one municipality is invisible and
 * useless in another, whatever tenant the code claims; staff reach personal data only with a role
 * that covers the category and a purpose they stated from the catalogue.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decide, decideMany, listConsents } from '../../src/consent/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import {
  addTenants,
  ask,
  CLINIC,
  CLINIC_ITEMS,
  clinic,
  consent,
  declare,
  definePurposes,
  ISHINOMAKI,
  SENDAI,
} from './helpers.ts';

const VACCINATION = { purpose: 'telemedicine', category: 'vaccination', action: 'read' } as const;

describe(`consent across municipalities (${backend})`, () => {
  let t: TestDb;
  let resident: string;
  let consentId: string;
  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    for (const tenant of [SENDAI, ISHINOMAKI]) {
      await definePurposes(t.db, tenant);
      // The same vendor serves both cities under the same client id.
      await declare(t.db, tenant, CLINIC, CLINIC_ITEMS);
    }
    resident = randomUUID();
    consentId = await consent(t.db, {
      resident,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
    });
  });
  after(() => t.close());

  it('does not let a consent given in Sendai open the same resident’s data in Ishinomaki', async () => {
    assert.equal((await ask(t.db, { resident })).allow, true);
    assert.deepEqual(await ask(t.db, { resident }, ISHINOMAKI), { allow: false, reason: 'no-consent' });
    assert.deepEqual(await ask(t.db, { resident, tenant: ISHINOMAKI }), {
      allow: false,
      reason: 'no-consent',
    });
    const many = await t.db.withTenant(ISHINOMAKI, (tx) =>
      decideMany(tx, { tenant: ISHINOMAKI, actor: clinic, ...VACCINATION }),
    );
    assert.deepEqual(many.residents, []);
  });

  it('shows Ishinomaki none of the consents the resident gave in Sendai', async () => {
    const there = await t.db.withTenant(ISHINOMAKI, (tx) =>
      listConsents(tx, { tenant: ISHINOMAKI, resident }),
    );
    assert.deepEqual(there, []);
  });

  it('denies code running as one municipality that claims to decide for another', async () => {
    const forged = await t.db.withTenant(ISHINOMAKI, (tx) =>
      decide(tx, { tenant: SENDAI, resident, actor: clinic, ...VACCINATION }),
    );
    assert.deepEqual(forged, { allow: false, reason: 'tenant-mismatch' });
    const many = await t.db.withTenant(ISHINOMAKI, (tx) =>
      decideMany(tx, { tenant: SENDAI, actor: clinic, ...VACCINATION }),
    );
    assert.deepEqual(many, { allow: false, reason: 'tenant-mismatch', everyone: false, residents: [] });
  });

  it('denies a decision made outside any municipality’s transaction, where row-level security is off', async () => {
    const outside = await t.db.transaction((tx) =>
      decide(tx, { tenant: SENDAI, resident, actor: clinic, ...VACCINATION }),
    );
    assert.deepEqual(outside, { allow: false, reason: 'tenant-mismatch' });
  });

  it('hides Sendai’s records from Ishinomaki’s code even when its SQL names Sendai', async () => {
    const { rows } = await t.db.withTenant(ISHINOMAKI, (tx) =>
      tx.query<{ n: number }>(
        `select (select count(*) from consent.records where tenant_id = $1)::int
              + (select count(*) from consent.record_items where tenant_id = $1)::int
              + (select count(*) from consent.record_events where tenant_id = $1)::int
              + (select count(*) from consent.texts where tenant_id = $1)::int as n`,
        [SENDAI],
      ),
    );
    assert.equal(rows[0]?.n, 0);
  });

  it('refuses Ishinomaki’s code writing into Sendai’s records, so it cannot withdraw or forge consent there', async () => {
    await assert.rejects(
      t.db.withTenant(ISHINOMAKI, (tx) =>
        tx.query(
          `insert into consent.record_events (tenant_id, record_id, event) values ($1, $2, 'withdrawn')`,
          [SENDAI, consentId],
        ),
      ),
      /row-level security/,
    );
    await assert.rejects(
      t.db.withTenant(ISHINOMAKI, (tx) =>
        tx.query(
          `insert into consent.records (tenant_id, resident_id, subject, client_id, controller, request_version,
                                        text_sha256, text_version)
           values ($1, $2, 'forged', $3, 'x', 1, repeat('0', 64), 'v')`,
          [SENDAI, randomUUID(), CLINIC],
        ),
      ),
      /row-level security/,
    );
    assert.equal((await ask(t.db, { resident })).allow, true);
  });
});

describe(`staff access to personal data (${backend})`, () => {
  let t: TestDb;
  const resident = randomUUID();
  const staff = (roles: string[], statedPurpose?: string) =>
    ({ kind: 'staff', accountId: randomUUID(), roles, statedPurpose }) as const;
  const health = { category: 'vaccination', purpose: 'maternal-child-health' };
  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    await definePurposes(t.db, SENDAI);
  });
  after(() => t.close());

  it('lets a health officer who states a catalogued purpose read a child’s vaccination record', async () => {
    const decision = await ask(t.db, {
      resident,
      ...health,
      actor: staff(['health-officer'], 'maternal-child-health'),
    });
    assert.deepEqual(decision, { allow: true, reason: 'staff-role' });
  });

  it('denies staff who state no purpose', async () => {
    for (const purpose of [undefined, '  ']) {
      const decision = await ask(t.db, { resident, ...health, actor: staff(['health-officer'], purpose) });
      assert.deepEqual(decision, { allow: false, reason: 'staff-no-purpose' });
    }
  });

  it('denies staff whose stated purpose is not in the catalogue, or is not the use they make', async () => {
    const unknown = await ask(t.db, {
      resident,
      category: 'vaccination',
      purpose: 'curiosity',
      actor: staff(['health-officer'], 'curiosity'),
    });
    assert.deepEqual(unknown, { allow: false, reason: 'staff-purpose-unknown' });
    const other = await ask(t.db, {
      resident,
      ...health,
      actor: staff(['health-officer'], 'event-recommendations'),
    });
    assert.deepEqual(other, { allow: false, reason: 'staff-purpose-mismatch' });
  });

  it('denies staff without a role that reaches the category: an administrator reads no health records', async () => {
    for (const roles of [[], ['viewer'], ['editor', 'approver'], ['admin'], ['disaster-officer']]) {
      const decision = await ask(t.db, { resident, ...health, actor: staff(roles, 'maternal-child-health') });
      assert.deepEqual(decision, { allow: false, reason: 'staff-role-not-allowed' }, roles.join());
    }
    const address = await ask(t.db, {
      resident,
      category: 'address',
      purpose: 'maternal-child-health',
      actor: staff(['admin'], 'maternal-child-health'),
    });
    assert.equal(address.allow, true);
  });

  it('denies a health officer in a municipality whose catalogue lacks the purpose, and a forged tenant', async () => {
    const elsewhere = await ask(
      t.db,
      { resident, ...health, tenant: ISHINOMAKI, actor: staff(['health-officer'], 'maternal-child-health') },
      ISHINOMAKI,
    );
    assert.deepEqual(elsewhere, { allow: false, reason: 'staff-purpose-unknown' });
    const forged = await ask(
      t.db,
      { resident, ...health, tenant: SENDAI, actor: staff(['health-officer'], 'maternal-child-health') },
      ISHINOMAKI,
    );
    assert.deepEqual(forged, { allow: false, reason: 'tenant-mismatch' });
  });
});
