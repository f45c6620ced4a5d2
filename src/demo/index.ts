/**
 * Demo data for a first start on an empty database: 宮城県 and three of its cities, a few
 * residents and a staff account. Passwords are random, shown once when they are set. The tenants
 * have aliases (sendai, ichikawa, …) and mark the standard open data's entity types public.
 * Never loaded in production unless DEMO_DATA says so (and then with a warning at every start).
 */

import fs from 'node:fs';
import { entityImporter, markEntityTypes } from '../broker/index.ts';
import {
  type Account,
  addAccount,
  findAccountByEmail,
  generatePassword,
  grantStaffRole,
  hashPassword,
  issueTotp,
} from '../identity/index.ts';
import {
  addTenant,
  addTenantAliases,
  codeOfAlias,
  type DataKeys,
  type Db,
  findTenant,
  type NewTenant,
  type SecretBox,
} from '../platform/index.ts';
import { chooseGarbageArea, hasGarbageSchedule, importGarbageSchedule } from '../services/calendar/index.ts';
import { DATASETS, readStandardDataset } from '../services/opendata/index.ts';
import { loadDemoPersonalData } from './personal.ts';

export const DEMO_TENANTS: NewTenant[] = [
  { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture', aliases: ['miyagi'] },
  { code: '041009', name: '仙台市', nameEn: 'Sendai City', aliases: ['sendai'] },
  { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City', aliases: ['ishinomaki'] },
  { code: '042030', name: '塩竈市', nameEn: 'Shiogama City', aliases: ['shiogama'] },
  { code: '120006', name: '千葉県', nameEn: 'Chiba Prefecture', aliases: ['chiba'] },
  { code: '122033', name: '市川市', nameEn: 'Ichikawa City', aliases: ['ichikawa'] },
];

/** The standard open data sets' entity types are public in every demo tenant: open data is for anyone. */
const DEMO_PUBLIC_TYPES = Object.values(DATASETS).map((d) => d.type);

/** Real open data of 市川市 (src/demo/data/SOURCE.md), loaded into the broker as NGSI-LD entities. */
const DEMO_OPEN_DATA: { tenant: string; dataset: string; file: string }[] = [
  { tenant: '122033', dataset: '101', file: '122033_101_public_facility.csv' },
  { tenant: '122033', dataset: '103', file: '122033_103_evacuation_space.csv' },
  { tenant: '122033', dataset: '105', file: '122033_105_preschool.csv' },
  { tenant: '122033', dataset: '108', file: '122033_108_aed.csv' },
];

interface DemoPerson {
  kind: 'resident' | 'staff';
  email: string;
  displayName: string;
  tenant: string;
}

const DEMO_PEOPLE: DemoPerson[] = [
  { kind: 'resident', email: 'hanako.aoba@example.jp', displayName: '青葉 花子', tenant: '041009' },
  { kind: 'resident', email: 'taro.miyagino@example.jp', displayName: '宮城野 太郎', tenant: '041009' },
  { kind: 'resident', email: 'sakura.hiyori@example.jp', displayName: '日和 さくら', tenant: '042021' },
  { kind: 'staff', email: 'staff@city.sendai.example.jp', displayName: '仙台市 デモ職員', tenant: '041009' },
];

export interface DemoCredential {
  kind: 'resident' | 'staff';
  email: string;
  displayName: string;
  tenant: string;
  password: string;
  /** A staff account's authenticator-app key (Base32), new at every load. */
  totpSecret?: string;
}

export async function hasAnyTenant(db: Db): Promise<boolean> {
  const { rows } = await db.query('select 1 from platform.tenants limit 1');
  return rows.length > 0;
}

/**
 * Loads (or reloads) the demo: adds missing tenants and accounts and gives every demo account a new
 * password, and staff a new authenticator key (staff log in with a second factor; without the
 * secret box, as in tests that never log staff in, they get none). Returns the credentials, to be
 * shown once.
 */
export async function loadDemo(db: Db, box?: SecretBox, keys?: DataKeys): Promise<DemoCredential[]> {
  for (const tenant of DEMO_TENANTS) {
    if (!(await findTenant(db, tenant.code))) {
      await addTenant(db, tenant);
    } else {
      // A demo loaded before aliases existed gets them; an alias taken meanwhile is left alone.
      const missing = [];
      for (const alias of tenant.aliases ?? []) {
        if ((await codeOfAlias(db, alias)) === undefined) missing.push(alias);
      }
      if (missing.length) await addTenantAliases(db, tenant.code, missing);
    }
    await markEntityTypes(db, tenant.code, { public: DEMO_PUBLIC_TYPES });
  }
  const credentials: DemoCredential[] = [];
  for (const person of DEMO_PEOPLE) {
    const password = generatePassword();
    let account: Account | undefined = await findAccountByEmail(db, person.email);
    if (account) {
      await db.query('update identity.accounts set password_hash = $2 where id = $1', [
        account.id,
        await hashPassword(password),
      ]);
    } else {
      account = await addAccount(db, {
        kind: person.kind,
        email: person.email,
        displayName: person.displayName,
        password,
        homeTenantCode: person.kind === 'resident' ? person.tenant : null,
      });
    }
    let totpSecret: string | undefined;
    if (person.kind === 'staff') {
      await grantStaffRole(db, person.tenant, account.id, 'admin');
      if (box) ({ secret: totpSecret } = await issueTotp(db, box, account.id, person.email));
    }
    credentials.push({ ...person, password, ...(totpSecret ? { totpSecret } : {}) });
    if (person === DEMO_PEOPLE[0] && box && keys) {
      await markEntityTypes(db, person.tenant, { personal: ['VaccinationRecord'] });
      await loadDemoPersonalData(db, box, keys, account.id);
    }
  }
  await loadDemoOpenData(db);
  await loadDemoGarbageSchedule(db);
  return credentials;
}

/**
 * A made-up 5374 schedule for 仙台市 (its areas are marked デモ), imported as by the demo staff
 * member; 青葉 花子 has chosen her area and the evening reminder.
 */
async function loadDemoGarbageSchedule(db: Db): Promise<void> {
  const sendai = '041009';
  const staff = await findAccountByEmail(db, 'staff@city.sendai.example.jp');
  const hanako = await findAccountByEmail(db, 'hanako.aoba@example.jp');
  if (!staff || !hanako) return;
  const file = (name: string) => fs.readFileSync(new URL(`./data/garbage-sendai/${name}`, import.meta.url));
  if (!(await hasGarbageSchedule(db, sendai))) {
    await importGarbageSchedule(db, sendai, staff.id, {
      'area_days.csv': file('area_days.csv'),
      'center.csv': file('center.csv'),
      'description.csv': file('description.csv'),
    });
  }
  await chooseGarbageArea(db, sendai, hanako.id, {
    garbageArea: '青葉区 一番町（デモ）',
    eveningReminder: true,
  });
}

async function loadDemoOpenData(db: Db): Promise<void> {
  const importEntities = entityImporter(db, { contextTimeoutMs: 5000, contextMaxBytes: 1024 * 1024 });
  for (const { tenant, dataset, file } of DEMO_OPEN_DATA) {
    const csv = fs.readFileSync(new URL(`./data/${file}`, import.meta.url), 'utf8');
    await importEntities(tenant, readStandardDataset(dataset, tenant, csv));
  }
}

export function formatCredentials(credentials: DemoCredential[]): string {
  const lines = ['Demo accounts (passwords are shown only now; `machi demo` sets new ones):'];
  for (const c of credentials) {
    lines.push(`  ${c.kind.padEnd(8)} ${c.tenant}  ${c.email.padEnd(32)} ${c.password}  ${c.displayName}`);
    if (c.totpSecret)
      lines.push(`           authenticator app key (TOTP, SHA-1, 6 digits, 30 s): ${c.totpSecret}`);
  }
  return lines.join('\n');
}
