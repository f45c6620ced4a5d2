/**
 * What services may declare, and the records residents get: the rule on 要配慮個人情報, versioning,
 * the catalogue, and records that prove what was shown and keep their whole history.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  categoriesOf,
  definePurpose,
  expireAllConsents,
  listCategories,
  listConsents,
  mapCategory,
  textHash,
  withdrawConsent,
} from '../../src/consent/index.ts';
import { BadRequest, Conflict, NotFound, ValidationFailed } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import {
  addTenants,
  ask,
  CITY_HEALTH,
  CLINIC,
  CLINIC_ITEMS,
  consent,
  declare,
  definePurposes,
  item,
  SENDAI,
  TEXT,
  withdraw,
} from './helpers.ts';

const CITY = { controller: '仙台市', controllerKind: 'municipality' as const };

describe(`service requests and legal basis (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    await definePurposes(t.db, SENDAI);
    await declare(t.db, SENDAI, CLINIC, CLINIC_ITEMS);
  });
  after(() => t.close());

  it('marks health, pregnancy and vaccination as 要配慮個人情報 and nothing else', async () => {
    const categories = await t.db.withTenant(SENDAI, (tx) => listCategories(tx));
    assert.deepEqual(
      categories.filter((c) => c.sensitive).map((c) => c.code),
      ['health', 'pregnancy', 'vaccination'],
    );
    assert.equal(categories.length, 8);
  });

  it('refuses a private service that declares health data on any basis but consent', async () => {
    for (const legalBasis of ['contract', 'vital-interest', 'statutory-duty', 'public-task'] as const) {
      await assert.rejects(
        declare(t.db, SENDAI, 'private-health', [item({ category: 'health', legalBasis })]),
        (error: unknown) =>
          error instanceof ValidationFailed && /要配慮個人情報/.test(JSON.stringify(error.extensions)),
        legalBasis,
      );
    }
  });

  it('lets the municipality process pregnancy records as its statutory duty, without asking', async () => {
    await declare(
      t.db,
      SENDAI,
      CITY_HEALTH,
      [item({ category: 'pregnancy', purpose: 'maternal-child-health', legalBasis: 'statutory-duty' })],
      CITY,
    );
    const decision = await ask(t.db, {
      resident: randomUUID(),
      actor: { kind: 'client', clientId: CITY_HEALTH },
      category: 'pregnancy',
      purpose: 'maternal-child-health',
    });
    assert.deepEqual(decision, { allow: true, reason: 'declared-basis', basis: 'statutory-duty' });
  });

  it('still asks for consent when a row claiming another basis for sensitive data is slipped into the database', async () => {
    // Written around declareServiceRequest, as the schema owner: the decision applies the rule itself.
    await t.db.query(
      `insert into consent.request_items (tenant_id, client_id, version, category, purpose, retention, third_party, actions, legal_basis)
       values ($1, $2, 1, 'health', 'telemedicine', 'P1Y', false, '{read}', 'contract')`,
      [SENDAI, CLINIC],
    );
    const decision = await ask(t.db, { resident: randomUUID(), category: 'health' });
    assert.deepEqual(decision, { allow: false, reason: 'no-consent' });
  });

  it('refuses a public task declared by a private operator, a bad retention and an unknown purpose', async () => {
    await assert.rejects(
      declare(t.db, SENDAI, 'x', [item({ category: 'address', legalBasis: 'public-task' })]),
    );
    await assert.rejects(declare(t.db, SENDAI, 'x', [item({ category: 'address', retention: 'forever' })]));
    await assert.rejects(
      declare(t.db, SENDAI, 'x', [item({ category: 'address', purpose: 'marketing' })]),
      (error: unknown) =>
        error instanceof ValidationFailed && /marketing/.test(JSON.stringify(error.extensions)),
    );
  });

  it('keeps a record of the exact text the resident was shown, by its SHA-256', async () => {
    const resident = randomUUID();
    await consent(t.db, { resident, items: [{ category: 'vaccination', purpose: 'telemedicine' }] });
    const [record] = await t.db.withTenant(SENDAI, (tx) => listConsents(tx, { tenant: SENDAI, resident }));
    assert.equal(record?.textSha256, textHash(TEXT.body));
    assert.equal(record?.textVersion, TEXT.version);
    const shown = await t.db.withTenant(SENDAI, (tx) =>
      tx.query<{ body: string }>('select body from consent.texts where sha256 = $1 and version = $2', [
        record?.textSha256,
        record?.textVersion,
      ]),
    );
    assert.equal(shown.rows[0]?.body, TEXT.body);
    assert.deepEqual(record?.items, [
      {
        category: 'vaccination',
        purpose: 'telemedicine',
        retention: 'P1Y',
        thirdParty: false,
        actions: ['read'],
        legalBasis: 'consent',
      },
    ]);
  });

  it('lists a resident’s consents with their whole history: given, then withdrawn', async () => {
    const resident = randomUUID();
    await consent(t.db, { resident, items: [{ category: 'household', purpose: 'telemedicine' }] });
    await withdraw(t.db, SENDAI, resident);
    const [record] = await t.db.withTenant(SENDAI, (tx) => listConsents(tx, { tenant: SENDAI, resident }));
    assert.equal(record?.state, 'withdrawn');
    assert.deepEqual(
      record?.events.map((e) => e.event),
      ['given', 'withdrawn'],
    );
  });

  it('writes expiry into the history once a consent has run out', async () => {
    const resident = randomUUID();
    await consent(t.db, {
      resident,
      items: [{ category: 'household', purpose: 'telemedicine' }],
      expiresAt: new Date(Date.now() + 300),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // What the hourly consent job runs in every tenant.
    assert.equal(await expireAllConsents(t.db), 1);
    assert.equal(await expireAllConsents(t.db), 0, 'a record expires once');
    const [record] = await t.db.withTenant(SENDAI, (tx) => listConsents(tx, { tenant: SENDAI, resident }));
    assert.equal(record?.state, 'expired');
    assert.deepEqual(
      record?.events.map((e) => e.event),
      ['given', 'expired'],
    );
  });

  it('refuses consent to a request version the resident was not shown, or to items not asked for', async () => {
    const resident = randomUUID();
    await assert.rejects(
      consent(t.db, {
        resident,
        requestVersion: 2,
        items: [{ category: 'vaccination', purpose: 'telemedicine' }],
      }),
      Conflict,
    );
    await assert.rejects(
      consent(t.db, { resident, items: [{ category: 'address', purpose: 'telemedicine' }] }),
      BadRequest,
    );
    // Contact details are processed under the contract: there is nothing to consent to.
    await assert.rejects(
      consent(t.db, { resident, items: [{ category: 'contact', purpose: 'telemedicine' }] }),
      BadRequest,
    );
    await assert.rejects(consent(t.db, { resident, clientId: 'nobody', items: [] }), NotFound);
    await assert.rejects(consent(t.db, { resident: 'not-an-account', items: [] }), BadRequest);
  });

  it('never lets the application change or delete a record or its history', async () => {
    const resident = randomUUID();
    const id = await consent(t.db, {
      resident,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
    });
    const attempts = [
      ["update consent.records set expires_at = now() + interval '100 years' where id = $1", [id]],
      ['delete from consent.record_events where record_id = $1', [id]],
      ["update consent.record_items set purpose = 'event-recommendations' where record_id = $1", [id]],
      ['delete from consent.records where id = $1', [id]],
    ] as const;
    for (const [sql, params] of attempts) {
      await assert.rejects(
        t.db.withTenant(SENDAI, (tx) => tx.query(sql, [...params])),
        /permission denied/,
        sql,
      );
    }
  });

  it('refuses withdrawing a record that is not the resident’s, as if it did not exist', async () => {
    const owner = randomUUID();
    const id = await consent(t.db, {
      resident: owner,
      items: [{ category: 'vaccination', purpose: 'telemedicine' }],
    });
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) =>
        withdrawConsent(tx, { tenant: SENDAI, resident: randomUUID(), consentId: id }),
      ),
      NotFound,
    );
    assert.equal((await ask(t.db, { resident: owner })).allow, true);
  });
});

describe(`the catalogue (${backend})`, () => {
  let t: TestDb;
  const PERSON = 'https://smartdatamodels.org/dataModel.Person/Person';
  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    await t.db.withTenant(SENDAI, async (tx) => {
      await mapCategory(tx, SENDAI, { entityType: PERSON, category: 'profile' });
      await mapCategory(tx, SENDAI, { entityType: PERSON, attribute: 'address', category: 'address' });
      await mapCategory(tx, SENDAI, { entityType: 'ImmunizationRecord', category: 'vaccination' });
    });
  });
  after(() => t.close());

  it('finds the category of each attribute: its own mapping first, then the type’s', async () => {
    const found = await t.db.withTenant(SENDAI, (tx) =>
      categoriesOf(tx, PERSON, ['https://smartdatamodels.org/address', 'givenName', 'colour']),
    );
    assert.deepEqual(found.byAttribute, {
      'https://smartdatamodels.org/address': 'address',
      givenName: 'profile',
      colour: 'profile',
    });
    assert.deepEqual(found.categories, ['address', 'profile']);
  });

  it('maps an expanded type through its short name, and a whole entity to every category of its type', async () => {
    const found = await t.db.withTenant(SENDAI, (tx) =>
      categoriesOf(tx, 'https://example.org/ImmunizationRecord', ['vaccineCode']),
    );
    assert.deepEqual(found.categories, ['vaccination']);
    const whole = await t.db.withTenant(SENDAI, (tx) => categoriesOf(tx, PERSON, []));
    assert.deepEqual(whole.categories, ['address', 'profile']);
  });

  it('keeps each municipality’s map to itself', async () => {
    const elsewhere = await t.db.withTenant('042021', (tx) => categoriesOf(tx, PERSON, ['givenName']));
    assert.deepEqual(elsewhere, { categories: [], byAttribute: {}, unmapped: ['givenName'] });
    const outside = await t.db.transaction((tx) => categoriesOf(tx, PERSON, ['givenName']));
    assert.deepEqual(outside.categories, []);
  });

  it('refuses a purpose residents could not understand or an unknown DPV form', async () => {
    const base = { id: 'p', nameJa: '目的', nameEn: 'Purpose', descriptionJa: '説明', descriptionEn: 'Why' };
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) => definePurpose(tx, SENDAI, { ...base, descriptionJa: ' ' })),
    );
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) => definePurpose(tx, SENDAI, { ...base, dpv: 'gdpr:Art6' })),
    );
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) => definePurpose(tx, SENDAI, { ...base, id: 'Bad Id' })),
    );
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) => mapCategory(tx, SENDAI, { entityType: 'X', category: 'blood-type' })),
    );
  });
});
