/**
 * The consent benchmark's data, set up through the capabilities' own functions where they exist and
 * in batches where a resident's browser would otherwise be needed a thousand times: the service and
 * its request, the catalogue, residents (one password hash shared by all), one record per resident
 * and its public twin, each record's owner, and the consent records of the residents who do not log
 * in (those who do give theirs on the consent page).
 */
import { entityImporter, loadBrokerConfig, markEntityTypes } from '../../src/broker/index.ts';
import { declareServiceRequest, definePurpose, mapCategory, recordConsent } from '../../src/consent/index.ts';
import { hashPassword, registerClient } from '../../src/identity/index.ts';
import { addTenant, type Db, findTenant, type SecretBox } from '../../src/platform/index.ts';
import {
  ITEMS,
  PASSWORD,
  PERSONAL_TYPE,
  PUBLIC_TYPE,
  PURPOSE,
  personalId,
  publicId,
  REDIRECT_URI,
  record,
  TENANT,
} from './shared.ts';

export interface Seeded {
  clientId: string;
  clientSecret: string;
  /** Account id and e-mail of each resident, resident n owning record n. */
  residents: { id: string; email: string }[];
}

const CHUNK = 250;

async function addTenants(db: Db): Promise<void> {
  const tenants = [
    { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' },
    { code: TENANT, name: '仙台市', nameEn: 'Sendai City' },
  ];
  for (const tenant of tenants) {
    if (!(await findTenant(db, tenant.code))) await addTenant(db, tenant);
  }
}

/** The purpose, the categories of the personal type, and the service's request (both on consent). */
async function catalogue(db: Db, clientId: string): Promise<void> {
  await markEntityTypes(db, TENANT, { personal: [PERSONAL_TYPE], public: [PUBLIC_TYPE] });
  await db.withTenant(TENANT, async (tx) => {
    await definePurpose(tx, TENANT, {
      id: PURPOSE,
      nameJa: '医療相談',
      nameEn: 'Telemedicine',
      descriptionJa: '夜間・休日のオンライン小児科相談',
      descriptionEn: 'Night and holiday paediatric consultations online',
    });
    await mapCategory(tx, TENANT, { entityType: PERSONAL_TYPE, category: 'vaccination' });
    await mapCategory(tx, TENANT, { entityType: PERSONAL_TYPE, attribute: 'clinicNote', category: 'health' });
    await declareServiceRequest(tx, TENANT, {
      clientId,
      controller: '仙台こどもクリニック',
      controllerKind: 'private',
      items: ITEMS.map((item) => ({
        ...item,
        retention: 'P1Y',
        thirdParty: false,
        actions: ['read' as const],
        legalBasis: 'consent' as const,
      })),
    });
  });
}

/** `count` residents in one statement, all with the bench password (hashed once). */
async function addResidents(db: Db, count: number): Promise<{ id: string; email: string }[]> {
  const hash = await hashPassword(PASSWORD);
  const tag = Date.now().toString(36);
  const { rows } = await db.query<{ id: string; email: string }>(
    `insert into identity.accounts (kind, email, display_name, password_hash, home_tenant_id)
     select 'resident', 'bench-' || $1 || '-' || n || '@example.jp', '住民 ' || n, $2, $3
       from generate_series(0, $4::int - 1) n
     order by n
     returning id, email`,
    [tag, hash, TENANT, count],
  );
  const number = (email: string) => Number(/-(\d+)@/.exec(email)?.[1]);
  return rows.sort((a, b) => number(a.email) - number(b.email));
}

/** Record n for resident n, and its public twin; resident n owns record n. */
async function addRecords(db: Db, residents: { id: string }[]): Promise<void> {
  const load = entityImporter(db, loadBrokerConfig({}));
  for (let start = 0; start < residents.length; start += CHUNK) {
    const ns = residents.slice(start, start + CHUNK).map((_, i) => start + i);
    await load(TENANT, [
      ...ns.map((n) => record(personalId(n), PERSONAL_TYPE, n)),
      ...ns.map((n) => record(publicId(n), PUBLIC_TYPE, n)),
    ]);
  }
  await db.withTenant(TENANT, (tx) =>
    tx.query(
      `insert into broker.entity_owners (tenant_id, entity_id, owner)
       select $1, e, o from unnest($2::text[], $3::uuid[]) as t(e, o)`,
      [TENANT, residents.map((_, n) => personalId(n)), residents.map((r) => r.id)],
    ),
  );
}

/** Consent to both items, as recorded when a resident ticks them on the consent page. */
async function consentAll(db: Db, clientId: string, residents: { id: string }[]): Promise<void> {
  const text = {
    version: 'bench-1',
    language: 'ja',
    body: '仙台こどもクリニックに、予防接種記録と健康情報を医療相談のために提供します。',
  };
  for (let start = 0; start < residents.length; start += CHUNK) {
    await db.withTenant(TENANT, async (tx) => {
      for (const resident of residents.slice(start, start + CHUNK)) {
        await recordConsent(tx, {
          tenant: TENANT,
          resident: resident.id,
          subject: `bench-${resident.id.slice(0, 8)}`,
          clientId,
          requestVersion: 1,
          items: [...ITEMS],
          text,
        });
      }
    });
  }
}

/**
 * Sets up `residents` residents with a record each; the first `logins` give their consent by
 * logging in (the driver does that), the others have it recorded here.
 */
export async function seed(db: Db, box: SecretBox, residents: number, logins: number): Promise<Seeded> {
  await addTenants(db);
  const client = await registerClient(db, box, {
    tenantCode: TENANT,
    name: '仙台こどもクリニック',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'profile'],
    serviceAccess: true,
  });
  await catalogue(db, client.clientId);
  const accounts = await addResidents(db, residents);
  await addRecords(db, accounts);
  await consentAll(db, client.clientId, accounts.slice(logins));
  // Planner statistics, as a database that has been running has them: without them, PostgreSQL 15
  // plans a decision as a scan of every record item of the category (6 ms instead of 0.2 ms at 1,000
  // residents) until autovacuum analyzes the freshly loaded tables.
  if (process.env.BENCH_CONSENT_ANALYZE !== 'off') await db.query('analyze');
  return { clientId: client.clientId, clientSecret: client.clientSecret as string, residents: accounts };
}
