/**
 * When the consent page must ask a resident again (the provider's `purpose_consent` check): exactly
 * when the service's request asks, on consent, for something the resident has not answered on
 * these terms; never for what they left unticked and comes back unchanged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  currentServiceRequest,
  declareServiceRequest,
  definePurpose,
  type RequestItem,
  recordConsent,
  withdrawConsent,
} from '../../src/consent/index.ts';
import { loadPurposeRequest, needsPurposeConsent } from '../../src/identity/oidc/purpose-consent.ts';
import { addTenant } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const SENDAI = '041009';
const CLINIC = 'machi-clinic';

const item = (over: Partial<RequestItem> & Pick<RequestItem, 'category'>): RequestItem => ({
  purpose: 'telemedicine',
  retention: 'P1Y',
  thirdParty: false,
  legalBasis: 'consent',
  ...over,
});

const V1 = [
  item({ category: 'vaccination' }),
  item({ category: 'household' }),
  item({ category: 'contact', legalBasis: 'contract' }),
];

describe(`asking a resident again about a service's request (${backend})`, () => {
  let t: TestDb;
  const declare = (items: RequestItem[], controller = '〇〇小児科クリニック') =>
    t.db.withTenant(SENDAI, (tx) =>
      declareServiceRequest(tx, SENDAI, { clientId: CLINIC, controller, controllerKind: 'private', items }),
    );
  const needs = (accountId: string) =>
    needsPurposeConsent(t.db, { tenant: SENDAI, clientId: CLINIC, accountId });
  const answer = async (resident: string, granted: string[]) => {
    const { version } = (await t.db.withTenant(SENDAI, (tx) =>
      currentServiceRequest(tx, SENDAI, CLINIC),
    )) as { version: number };
    await t.db.withTenant(SENDAI, (tx) =>
      recordConsent(tx, {
        tenant: SENDAI,
        resident,
        subject: `pairwise-${resident.slice(0, 8)}`,
        clientId: CLINIC,
        requestVersion: version,
        items: granted.map((category) => ({ category, purpose: 'telemedicine' })),
        text: { version: `v${version}`, language: 'ja', body: `request v${version}` },
      }),
    );
  };

  before(async () => {
    t = await createTestDb();
    await addTenant(t.db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
    await addTenant(t.db, { code: SENDAI, name: '仙台市', nameEn: 'Sendai City' });
    await t.db.withTenant(SENDAI, (tx) =>
      definePurpose(tx, SENDAI, {
        id: 'telemedicine',
        nameJa: '医療相談',
        nameEn: 'Medical consultation',
        descriptionJa: '医師がお子さまの記録を確認します。',
        descriptionEn: 'A doctor checks your child’s records.',
      }),
    );
  });
  after(() => t.close());

  it('does not ask for a service that declared nothing, or nothing on consent', async () => {
    const resident = randomUUID();
    assert.equal(await needs(resident), false);
    await t.db.withTenant(SENDAI, (tx) =>
      declareServiceRequest(tx, SENDAI, {
        clientId: 'machi-city',
        controller: '仙台市',
        controllerKind: 'municipality',
        items: [item({ category: 'pregnancy', legalBasis: 'statutory-duty' })],
      }),
    );
    assert.equal(
      await needsPurposeConsent(t.db, { tenant: SENDAI, clientId: 'machi-city', accountId: resident }),
      false,
    );
    const shown = await loadPurposeRequest(t.db, {
      tenant: SENDAI,
      clientId: 'machi-city',
      accountId: resident,
    });
    assert.deepEqual(shown?.asked, []);
    assert.equal(
      shown?.informed[0]?.basis,
      'statutory-duty',
      'pregnancy: the city’s statutory duty, not consent',
    );
  });

  it('asks a resident never asked, and not after an answer, whatever was left unticked', async () => {
    await declare(V1);
    const resident = randomUUID();
    assert.equal(await needs(resident), true);
    await answer(resident, ['household']);
    assert.equal(await needs(resident), false);
    const shown = await loadPurposeRequest(t.db, { tenant: SENDAI, clientId: CLINIC, accountId: resident });
    assert.deepEqual(
      shown?.asked.map((i) => [i.item.category, i.granted, i.changed]),
      [
        ['household', true, false],
        ['vaccination', false, false],
      ],
    );
    assert.equal(shown?.askedAgain, false);
  });

  it('does not ask again for a request that only narrowed', async () => {
    const resident = randomUUID();
    await declare(V1);
    await answer(resident, ['vaccination']);
    await declare(V1.map((i) => (i.category === 'vaccination' ? { ...i, retention: 'P6M' } : i)));
    assert.equal(await needs(resident), false);
  });

  for (const [what, grow] of [
    ['a longer retention', (i: RequestItem) => ({ ...i, retention: 'P2Y' })],
    ['newly a third-party provision', (i: RequestItem) => ({ ...i, thirdParty: true })],
    ['an action added', (i: RequestItem) => ({ ...i, actions: ['read', 'write'] as RequestItem['actions'] })],
  ] as const) {
    it(`asks again about an item granted or declined before when it grows: ${what}`, async () => {
      await declare(V1);
      const granted = randomUUID();
      const declined = randomUUID();
      await answer(granted, ['household']);
      await answer(declined, []);
      await declare(V1.map((i) => (i.category === 'household' ? grow(i) : i)));
      assert.equal(await needs(granted), true);
      assert.equal(await needs(declined), true);
      const shown = await loadPurposeRequest(t.db, { tenant: SENDAI, clientId: CLINIC, accountId: granted });
      assert.equal(shown?.askedAgain, true);
      assert.deepEqual(
        shown?.asked.filter((i) => i.changed).map((i) => i.item.category),
        ['household'],
      );
      await declare(V1);
    });
  }

  it('asks again about a new item, an item moved onto consent, and a new controller', async () => {
    await declare(V1);
    const resident = randomUUID();
    await answer(resident, ['household', 'vaccination']);
    await declare([...V1, item({ category: 'interests' })]);
    assert.equal(await needs(resident), true, 'a new item');
    await answer(resident, ['household', 'vaccination']);
    assert.equal(await needs(resident), false);

    await declare([
      ...V1.filter((i) => i.category !== 'contact'),
      item({ category: 'contact' }),
      item({ category: 'interests' }),
    ]);
    assert.equal(await needs(resident), true, 'contact was processed under contract; now it needs consent');
    await answer(resident, ['household', 'vaccination']);

    await declare([...V1, item({ category: 'interests' })], '別の事業者');
    assert.equal(await needs(resident), true, 'another controller');
  });

  it('asks again after the resident withdrew', async () => {
    await declare(V1);
    const resident = randomUUID();
    await answer(resident, ['household']);
    await t.db.withTenant(SENDAI, (tx) =>
      withdrawConsent(tx, { tenant: SENDAI, resident, clientId: CLINIC }),
    );
    assert.equal(await needs(resident), true);
  });
});
