/**
 * Tenancy: a tenant is a municipality or prefecture named by its 6-digit
 * 全国地方公共団体コード (local government code, JIS X 0402 with its check digit).
 * Isolation itself is enforced by row-level security (see db.ts `withTenant`); this file
 * validates codes and keeps the tenant registry.
 */
import type { Queryable } from './db.ts';
import { BadRequest, Conflict, NotFound } from './errors.ts';

export type TenantKind = 'prefecture' | 'municipality';

export interface Tenant {
  code: string;
  kind: TenantKind;
  name: string;
  nameEn: string;
  parentCode: string | null;
}

/** The check digit of a 5-digit code: weights 6..2, sum mod 11, last digit of 11 minus the remainder. */
export function checkDigit(fiveDigits: string): number {
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += Number(fiveDigits[i]) * (6 - i);
  }
  return (11 - (sum % 11)) % 10;
}

/**
 * Returns the reason a 全国地方公共団体コード is invalid, or undefined when it is valid.
 * Prefecture codes end in 000 before the check digit (宮城県 040002).
 */
export function invalidCodeReason(code: string): string | undefined {
  if (!/^\d{6}$/.test(code)) {
    return `"${code}" is not a 全国地方公共団体コード: it must be 6 digits (5 digits and a check digit), e.g. 041009`;
  }
  const prefecture = Number(code.slice(0, 2));
  if (prefecture < 1 || prefecture > 47) {
    return `"${code}" is not a 全国地方公共団体コード: its first two digits must be a prefecture number 01–47`;
  }
  const expected = checkDigit(code.slice(0, 5));
  if (Number(code[5]) !== expected) {
    return `"${code}" is not a 全国地方公共団体コード: its check digit should be ${expected}`;
  }
  return undefined;
}

/** @throws BadRequest naming what is wrong with the code */
export function assertTenantCode(code: string): void {
  const reason = invalidCodeReason(code);
  if (reason) {
    throw new BadRequest(reason);
  }
}

export function tenantKindOf(code: string): TenantKind {
  return code.slice(2, 5) === '000' ? 'prefecture' : 'municipality';
}

/** The prefecture tenant a municipality code belongs to (its first two digits). */
export function prefectureCodeOf(code: string): string {
  const five = `${code.slice(0, 2)}000`;
  return `${five}${checkDigit(five)}`;
}

interface TenantRow {
  id: string;
  kind: TenantKind;
  name: string;
  name_en: string;
  parent_id: string | null;
}

function toTenant(row: TenantRow): Tenant {
  return { code: row.id, kind: row.kind, name: row.name, nameEn: row.name_en, parentCode: row.parent_id };
}

export async function listTenants(db: Queryable): Promise<Tenant[]> {
  const { rows } = await db.query<TenantRow>(
    'select id, kind, name, name_en, parent_id from platform.tenants order by id',
  );
  return rows.map(toTenant);
}

export async function findTenant(db: Queryable, code: string): Promise<Tenant | undefined> {
  const { rows } = await db.query<TenantRow>(
    'select id, kind, name, name_en, parent_id from platform.tenants where id = $1',
    [code],
  );
  return rows[0] ? toTenant(rows[0]) : undefined;
}

/**
 * Resolves a tenant named by a client (a header or a path).
 * @throws BadRequest for a malformed code, NotFound for a code that is not a tenant here
 */
export async function requireTenant(db: Queryable, code: string): Promise<Tenant> {
  assertTenantCode(code);
  const tenant = await findTenant(db, code);
  if (!tenant) {
    throw new NotFound(`no tenant with code ${code} on this Machi`);
  }
  return tenant;
}

export interface NewTenant {
  code: string;
  name: string;
  nameEn: string;
}

/**
 * Adds a prefecture or municipality. A municipality's prefecture must exist first.
 * @throws BadRequest for a wrong code, Conflict when the tenant exists, NotFound for a missing prefecture
 */
export async function addTenant(db: Queryable, input: NewTenant): Promise<Tenant> {
  assertTenantCode(input.code);
  if (!input.name.trim() || !input.nameEn.trim()) {
    throw new BadRequest('a tenant needs a Japanese and an English name');
  }
  const kind = tenantKindOf(input.code);
  const parent = kind === 'municipality' ? prefectureCodeOf(input.code) : null;
  if (parent && !(await findTenant(db, parent))) {
    throw new NotFound(`add the prefecture ${parent} before its municipality ${input.code}`);
  }
  const { rows } = await db.query<TenantRow>(
    `insert into platform.tenants (id, kind, name, name_en, parent_id) values ($1, $2, $3, $4, $5)
     on conflict (id) do nothing
     returning id, kind, name, name_en, parent_id`,
    [input.code, kind, input.name.trim(), input.nameEn.trim(), parent],
  );
  if (!rows[0]) {
    throw new Conflict(`tenant ${input.code} already exists`);
  }
  return toTenant(rows[0]);
}
