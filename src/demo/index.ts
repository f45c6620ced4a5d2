/**
 * Demo data for a first start on an empty database: 宮城県 and three of its cities, a few
 * residents and a staff account. Passwords are random, shown once when they are set.
 * Never loaded in production unless DEMO_DATA says so (and then with a warning at every start).
 */

import fs from 'node:fs';
import { entityImporter } from '../broker/index.ts';
import {
  type Account,
  addAccount,
  findAccountByEmail,
  generatePassword,
  grantStaffRole,
  hashPassword,
} from '../identity/index.ts';
import { addTenant, type Db, findTenant, type NewTenant } from '../platform/index.ts';
import { readStandardDataset } from '../services/opendata/index.ts';

export const DEMO_TENANTS: NewTenant[] = [
  { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' },
  { code: '041009', name: '仙台市', nameEn: 'Sendai City' },
  { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City' },
  { code: '042030', name: '塩竈市', nameEn: 'Shiogama City' },
  { code: '120006', name: '千葉県', nameEn: 'Chiba Prefecture' },
  { code: '122033', name: '市川市', nameEn: 'Ichikawa City' },
];

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
}

export async function hasAnyTenant(db: Db): Promise<boolean> {
  const { rows } = await db.query('select 1 from platform.tenants limit 1');
  return rows.length > 0;
}

/**
 * Loads (or reloads) the demo: adds missing tenants and accounts and gives every demo account a new
 * password. Returns the credentials, to be shown once.
 */
export async function loadDemo(db: Db): Promise<DemoCredential[]> {
  for (const tenant of DEMO_TENANTS) {
    if (!(await findTenant(db, tenant.code))) {
      await addTenant(db, tenant);
    }
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
    if (person.kind === 'staff') {
      await grantStaffRole(db, person.tenant, account.id, 'admin');
    }
    credentials.push({ ...person, password });
  }
  await loadDemoOpenData(db);
  return credentials;
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
  }
  return lines.join('\n');
}
