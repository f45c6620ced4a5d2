/**
 * The policy decision point for services: attempts to reach a resident's data without the consent
 * that covers the use must fail, and what the resident granted must work.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import {
  addTenants,
  ask,
  CLINIC,
  CLINIC_ITEMS,
  consent,
  declare,
  definePurposes,
  EVENTS,
  item,
  SENDAI,
  withdraw,
} from './helpers.ts';

describe(`consent decisions for services (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    await definePurposes(t.db, SENDAI);
    await declare(t.db, SENDAI, CLINIC, CLINIC_ITEMS);
  });
  after(() => t.close());

  it('denies a service that asks for a child’s vaccination records the parent never agreed to share', async () => {
    const decision = await ask(t.db, { resident: randomUUID() });
    assert.deepEqual(decision, { allow: false, reason: 'no-consent' });
  });

  it('allows the service once the parent consents, naming the consent record', async () => {
    const resident = randomUUID();
    const consentId = await consent(t.db, {
      resident,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
    });
    assert.deepEqual(await ask(t.db, { resident }), {
      allow: true,
      reason: 'consent',
      basis: 'consent',
      consentId,
    });
  });

  it('denies the very next request after the parent withdraws (no allow outlives the withdrawal)', async () => {
    const resident = randomUUID();
    await consent(t.db, { resident, items: [{ category: 'vaccination', purpose: 'telemedicine' }] });
    assert.equal((await ask(t.db, { resident })).allow, true);
    const { clientIds } = await withdraw(t.db, SENDAI, resident);
    assert.deepEqual(clientIds, [CLINIC]);
    const next = await ask(t.db, { resident });
    assert.equal(next.allow, false);
    assert.equal(next.reason, 'consent-withdrawn');
  });

  it('denies using consent given for medical consultation to recommend events', async () => {
    const resident = randomUUID();
    await declare(t.db, SENDAI, EVENTS, [item({ category: 'household', purpose: 'event-recommendations' })]);
    await consent(t.db, { resident, items: [{ category: 'household', purpose: 'telemedicine' }] });
    assert.equal((await ask(t.db, { resident, category: 'household' })).allow, true);
    const sameService = await ask(t.db, {
      resident,
      category: 'household',
      purpose: 'event-recommendations',
    });
    assert.deepEqual(sameService, { allow: false, reason: 'not-requested' });
    const otherService = await ask(t.db, {
      resident,
      category: 'household',
      purpose: 'event-recommendations',
      actor: { kind: 'client', clientId: EVENTS },
    });
    assert.deepEqual(otherService, { allow: false, reason: 'no-consent' });
  });

  it('honours a partial grant: the household is shared, the vaccination records are not', async () => {
    const resident = randomUUID();
    await consent(t.db, { resident, items: [{ category: 'household', purpose: 'telemedicine' }] });
    assert.equal((await ask(t.db, { resident, category: 'household' })).allow, true);
    assert.deepEqual(await ask(t.db, { resident, category: 'vaccination' }), {
      allow: false,
      reason: 'no-consent',
    });
  });

  it('denies writing where the service only asked to read', async () => {
    const resident = randomUUID();
    await consent(t.db, { resident, items: [{ category: 'vaccination', purpose: 'telemedicine' }] });
    assert.deepEqual(await ask(t.db, { resident, action: 'write' }), {
      allow: false,
      reason: 'action-not-requested',
    });
  });

  it('denies after the consent expires, judged at the moment asked', async () => {
    const resident = randomUUID();
    const expiresAt = new Date(Date.now() + 60_000);
    await consent(t.db, {
      resident,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
      expiresAt,
    });
    assert.equal((await ask(t.db, { resident, at: new Date(expiresAt.getTime() - 1000) })).allow, true);
    const later = await ask(t.db, { resident, at: new Date(expiresAt.getTime() + 1000) });
    assert.equal(later.allow, false);
    assert.equal(later.reason, 'consent-expired');
  });

  it('denies on the database clock once a short consent has run out', async () => {
    const resident = randomUUID();
    const expiresAt = new Date(Date.now() + 800);
    await consent(t.db, {
      resident,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
      expiresAt,
    });
    assert.equal((await ask(t.db, { resident })).allow, true);
    await sleep(expiresAt.getTime() - Date.now() + 200);
    assert.equal((await ask(t.db, { resident })).reason, 'consent-expired');
  });

  it('allows what a non-consent basis declares, and nothing beyond it', async () => {
    const resident = randomUUID();
    assert.deepEqual(await ask(t.db, { resident, category: 'contact' }), {
      allow: true,
      reason: 'declared-basis',
      basis: 'contract',
    });
    assert.equal((await ask(t.db, { resident, category: 'contact', action: 'write' })).allow, false);
    assert.equal(
      (await ask(t.db, { resident, category: 'contact', purpose: 'event-recommendations' })).allow,
      false,
    );
    assert.deepEqual(await ask(t.db, { resident, category: 'address' }), {
      allow: false,
      reason: 'not-requested',
    });
  });

  it('denies a service that has declared nothing, and a category that does not exist', async () => {
    const resident = randomUUID();
    const unknown = await ask(t.db, { resident, actor: { kind: 'client', clientId: 'never-declared' } });
    assert.deepEqual(unknown, { allow: false, reason: 'no-service-request' });
    assert.deepEqual(await ask(t.db, { resident, category: 'blood-type' }), {
      allow: false,
      reason: 'unknown-category',
    });
  });

  it('replaces the earlier consent when the parent consents again to less', async () => {
    const resident = randomUUID();
    await consent(t.db, {
      resident,
      items: [
        { category: 'vaccination', purpose: 'telemedicine' },
        { category: 'household', purpose: 'telemedicine' },
      ],
    });
    await consent(t.db, { resident, items: [{ category: 'household', purpose: 'telemedicine' }] });
    assert.equal((await ask(t.db, { resident, category: 'household' })).allow, true);
    assert.equal((await ask(t.db, { resident, category: 'vaccination' })).reason, 'consent-superseded');
  });
});

describe(`a new version of a service's request (${backend})`, () => {
  let t: TestDb;
  const client = 'clinic-changing';
  const asClient = { kind: 'client', clientId: client } as const;
  const v1 = [item({ category: 'vaccination' }), item({ category: 'household' })];
  let resident: string;

  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    await definePurposes(t.db, SENDAI);
    await declare(t.db, SENDAI, client, v1);
    resident = randomUUID();
    await consent(t.db, {
      resident,
      clientId: client,
      items: v1.map((i) => ({ category: i.category, purpose: i.purpose })),
    });
  });
  after(() => t.close());

  it('keeps the version when the service declares the same request again', async () => {
    const again = await declare(t.db, SENDAI, client, [...v1].reverse());
    assert.equal(again.version, 1);
    assert.equal(again.changed, false);
  });

  it('does not let old consent cover a category the service newly asks for', async () => {
    const v2 = await declare(t.db, SENDAI, client, [...v1, item({ category: 'health' })]);
    assert.equal(v2.version, 2);
    assert.equal((await ask(t.db, { resident, actor: asClient, category: 'health' })).reason, 'no-consent');
    // What did not change stays covered by what the parent agreed to.
    assert.equal((await ask(t.db, { resident, actor: asClient, category: 'vaccination' })).allow, true);
  });

  it('does not let old consent cover an item that now keeps the data longer or passes it to a third party', async () => {
    await declare(t.db, SENDAI, client, [
      item({ category: 'vaccination', retention: 'P5Y' }),
      item({ category: 'household', thirdParty: true }),
    ]);
    for (const category of ['vaccination', 'household']) {
      const decision = await ask(t.db, { resident, actor: asClient, category });
      assert.equal(decision.allow, false, category);
      assert.equal(decision.reason, 'consent-outdated', category);
    }
  });

  it('covers the broadened items again once the parent consents to the new version', async () => {
    const current = await declare(t.db, SENDAI, client, [
      item({ category: 'vaccination', retention: 'P5Y' }),
      item({ category: 'household', thirdParty: true }),
    ]);
    await consent(t.db, {
      resident,
      clientId: client,
      requestVersion: current.version,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
    });
    assert.equal((await ask(t.db, { resident, actor: asClient, category: 'vaccination' })).allow, true);
    assert.equal((await ask(t.db, { resident, actor: asClient, category: 'household' })).allow, false);
  });

  it('does not carry consent over to a new operator of the service', async () => {
    const other = randomUUID();
    const before = await declare(t.db, SENDAI, client, [item({ category: 'interests' })]);
    await consent(t.db, {
      resident: other,
      clientId: client,
      requestVersion: before.version,
      items: [{ category: 'interests', purpose: 'telemedicine' }],
    });
    assert.equal((await ask(t.db, { resident: other, actor: asClient, category: 'interests' })).allow, true);
    await declare(t.db, SENDAI, client, [item({ category: 'interests' })], {
      controller: '株式会社△△ヘルスケア',
      controllerKind: 'private',
    });
    const decision = await ask(t.db, { resident: other, actor: asClient, category: 'interests' });
    assert.equal(decision.reason, 'consent-outdated');
  });
});
