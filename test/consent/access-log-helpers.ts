/**
 * A small world for access-log tests: a prefecture whose municipalities are made on demand (one per
 * test, so one test's tampering never shows in another's verification), and decisions to record.
 */
import { randomUUID } from 'node:crypto';
import {
  type AccessEntry,
  type AccessRecord,
  appendAccess,
  appendAccessMany,
} from '../../src/consent/access-log.ts';
import { addTenant, checkDigit, type Db, SecretBox } from '../../src/platform/index.ts';
import { TEST_SECRET_KEY } from '../helpers/db.ts';

export const MIYAGI = '040002';
export const box = new SecretBox(Buffer.from(TEST_SECRET_KEY, 'base64url'));

let next = 100;

/** A new municipality of Miyagi (codes 04100x… with their check digits). */
export async function freshTenant(db: Db): Promise<string> {
  if (!(await db.query('select 1 from platform.tenants where id = $1', [MIYAGI])).rows[0]) {
    await addTenant(db, { code: MIYAGI, name: '宮城県', nameEn: 'Miyagi Prefecture' });
  }
  next += 1;
  const five = `04${next}`;
  const code = `${five}${checkDigit(five)}`;
  await addTenant(db, { code, name: `テスト市${next}`, nameEn: `Test City ${next}` });
  return code;
}

export const CLINIC_ACTOR = {
  kind: 'client',
  id: 'clinic-telemedicine',
  name: '〇〇小児科オンライン相談',
} as const;

export function entry(resident: string, over: Partial<AccessEntry> = {}): AccessEntry {
  return {
    resident,
    actor: CLINIC_ACTOR,
    purpose: 'telemedicine',
    categories: ['vaccination'],
    entities: [`urn:ngsi-ld:VaccinationRecord:${resident.slice(0, 8)}`],
    action: 'read',
    decision: 'allow',
    reason: 'consent',
    ...over,
  };
}

/** Appends `count` records for the resident, one transaction each, as separate requests would. */
export async function appendSome(db: Db, tenant: string, resident: string, count: number) {
  const records: AccessRecord[] = [];
  for (let i = 0; i < count; i++) {
    const decision = i % 3 === 2 ? 'deny' : 'allow';
    records.push(
      await db.withTenant(tenant, (tx) =>
        appendAccess(
          tx,
          tenant,
          entry(resident, { decision, reason: decision === 'deny' ? 'no-consent' : 'consent' }),
        ),
      ),
    );
  }
  return records;
}

/** A tenant with two residents, `count` records each. */
export async function world(db: Db, count = 5) {
  const tenant = await freshTenant(db);
  const residents = [randomUUID(), randomUUID()].sort();
  for (const resident of residents) await appendSome(db, tenant, resident, count);
  return { tenant, residents, first: residents[0] as string, second: residents[1] as string };
}

export function appendBatch(db: Db, tenant: string, entries: AccessEntry[]) {
  return db.withTenant(tenant, (tx) => appendAccessMany(tx, tenant, entries));
}
