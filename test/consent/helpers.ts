/**
 * A small world for consent tests: two municipalities, their purposes, and the services that ask
 * for residents' data (a private paediatric telemedicine clinic, the city's own maternal-child health
 * service, an events app).
 */
import {
  type Actor,
  type ControllerKind,
  type Decision,
  type DecisionRequest,
  decide,
  declareServiceRequest,
  definePurpose,
  type NewConsent,
  type RequestItem,
  recordConsent,
  withdrawConsent,
} from '../../src/consent/index.ts';
import { addTenant, type Db, type Queryable } from '../../src/platform/index.ts';

export const SENDAI = '041009';
export const ISHINOMAKI = '042021';

export const CLINIC = 'clinic-telemedicine';
export const CITY_HEALTH = 'city-maternal-child';
export const EVENTS = 'events-app';

export async function addTenants(db: Db): Promise<void> {
  await addTenant(db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
  await addTenant(db, { code: SENDAI, name: '仙台市', nameEn: 'Sendai City' });
  await addTenant(db, { code: ISHINOMAKI, name: '石巻市', nameEn: 'Ishinomaki City' });
}

const PURPOSES = [
  {
    id: 'telemedicine',
    nameJa: '医療相談',
    nameEn: 'Medical consultation',
    descriptionJa: '夜間・休日の小児科オンライン相談で、医師がお子さまの記録を確認します。',
    descriptionEn: 'A paediatrician checks your child’s records during an online consultation.',
    dpv: 'dpv:ServiceProvision',
  },
  {
    id: 'event-recommendations',
    nameJa: 'イベントのご案内',
    nameEn: 'Event recommendations',
    descriptionJa: 'お子さまの年齢に合った催しをお知らせします。',
    descriptionEn: 'We tell you about events that suit your child’s age.',
    dpv: 'dpv:ProvideEventRecommendations',
  },
  {
    id: 'maternal-child-health',
    nameJa: '母子保健',
    nameEn: 'Maternal and child health',
    descriptionJa: '母子保健法に基づく妊婦健診・乳幼児健診の実施',
    descriptionEn: 'Checkups under the Maternal and Child Health Act',
    dpv: 'dpv:PublicBenefit',
  },
];

/** The tenant's catalogue of purposes. */
export async function definePurposes(db: Db, tenant: string): Promise<void> {
  await db.withTenant(tenant, async (tx) => {
    for (const purpose of PURPOSES) await definePurpose(tx, tenant, purpose);
  });
}

export const item = (over: Partial<RequestItem> & Pick<RequestItem, 'category'>): RequestItem => ({
  purpose: 'telemedicine',
  retention: 'P1Y',
  thirdParty: false,
  legalBasis: 'consent',
  ...over,
});

/** The clinic asks for vaccination records (consent) and contact details (contract). */
export const CLINIC_ITEMS: RequestItem[] = [
  item({ category: 'vaccination' }),
  item({ category: 'household' }),
  item({ category: 'contact', legalBasis: 'contract', retention: 90 }),
];

export async function declare(
  db: Db,
  tenant: string,
  clientId: string,
  items: RequestItem[],
  controller: { controller: string; controllerKind: ControllerKind } = {
    controller: '〇〇小児科クリニック',
    controllerKind: 'private',
  },
) {
  return db.withTenant(tenant, (tx) => declareServiceRequest(tx, tenant, { clientId, ...controller, items }));
}

export const TEXT = {
  version: 'clinic-2026-11',
  language: 'ja',
  body: '〇〇小児科クリニックに、お子さまの予防接種記録を…',
};

export async function consent(
  db: Db,
  input: Partial<NewConsent> & Pick<NewConsent, 'resident' | 'items'>,
): Promise<string> {
  const tenant = input.tenant ?? SENDAI;
  const record = await db.withTenant(tenant, (tx) =>
    recordConsent(tx, {
      tenant,
      subject: `pairwise-${input.resident.slice(0, 8)}`,
      clientId: CLINIC,
      requestVersion: 1,
      text: TEXT,
      ...input,
    }),
  );
  return record.id;
}

export function withdraw(db: Db, tenant: string, resident: string, clientId = CLINIC) {
  return db.withTenant(tenant, (tx) => withdrawConsent(tx, { tenant, resident, clientId }));
}

export const clinic: Actor = { kind: 'client', clientId: CLINIC };

/** One decision in its own transaction, as a module would ask. */
export function ask(
  db: Db,
  over: Partial<DecisionRequest> & Pick<DecisionRequest, 'resident'>,
  tenant = over.tenant ?? SENDAI,
): Promise<Decision> {
  return db.withTenant(tenant, (tx: Queryable) =>
    decide(tx, {
      tenant,
      actor: clinic,
      purpose: 'telemedicine',
      category: 'vaccination',
      action: 'read',
      ...over,
    }),
  );
}
