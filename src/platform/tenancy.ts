/**
 * Tenancy: a tenant is a municipality or prefecture named by its 6-digit
 * 全国地方公共団体コード (local government code, JIS X 0402 with its check digit).
 * Isolation itself is enforced by row-level security (see db.ts `withTenant`); this file
 * validates codes and keeps the tenant registry, with each tenant's aliases (`sendai`): other names
 * a client may use, always resolved to the code before anything is stored or answered.
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
  /** Other names clients may use for it (`sendai`), in alphabetical order. */
  aliases: string[];
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

const ALIAS = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Returns the reason a tenant alias is invalid, or undefined when it is valid: a lowercase ASCII
 * slug of 2–63 characters that starts with a letter, so that it can never be taken for a code.
 */
export function invalidAliasReason(alias: string): string | undefined {
  if (alias.length < 2 || alias.length > 63 || !ALIAS.test(alias)) {
    return `"${alias}" is not a tenant alias: use 2–63 lowercase letters, digits and single hyphens, starting with a letter (e.g. sendai)`;
  }
  return undefined;
}

/** Whether a name given for a tenant is meant as an alias rather than a 全国地方公共団体コード. */
export function looksLikeAlias(name: string): boolean {
  return /^[a-z]/i.test(name);
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

/** Whether something owned by `owner` may act in `tenant`: its own, or a prefecture's municipalities. */
export function tenantCovers(owner: string, tenant: string): boolean {
  return owner === tenant || (tenantKindOf(owner) === 'prefecture' && prefectureCodeOf(tenant) === owner);
}

interface TenantRow {
  id: string;
  kind: TenantKind;
  name: string;
  name_en: string;
  parent_id: string | null;
  aliases: string[];
}

function toTenant(row: TenantRow): Tenant {
  return {
    code: row.id,
    kind: row.kind,
    name: row.name,
    nameEn: row.name_en,
    parentCode: row.parent_id,
    aliases: row.aliases,
  };
}

const TENANT_COLUMNS = `t.id, t.kind, t.name, t.name_en, t.parent_id,
  array(select a.alias from platform.tenant_aliases a where a.code = t.id order by a.alias) as aliases`;

export async function listTenants(db: Queryable): Promise<Tenant[]> {
  const { rows } = await db.query<TenantRow>(
    `select ${TENANT_COLUMNS} from platform.tenants t order by t.id`,
  );
  return rows.map(toTenant);
}

export async function findTenant(db: Queryable, code: string): Promise<Tenant | undefined> {
  const { rows } = await db.query<TenantRow>(
    `select ${TENANT_COLUMNS} from platform.tenants t where t.id = $1`,
    [code],
  );
  return rows[0] ? toTenant(rows[0]) : undefined;
}

/** The code of the tenant an alias names, or undefined when no tenant has it. */
export async function codeOfAlias(db: Queryable, alias: string): Promise<string | undefined> {
  const { rows } = await db.query<{ code: string }>(
    'select code from platform.tenant_aliases where alias = $1',
    [alias.toLowerCase()],
  );
  return rows[0]?.code;
}

/**
 * Resolves a tenant named by a client (a header, a path, a command's argument): its code or one of
 * its aliases.
 * @throws BadRequest for a malformed code or alias, NotFound for a name that is no tenant here
 */
export async function requireTenant(db: Queryable, name: string): Promise<Tenant> {
  if (looksLikeAlias(name)) {
    const reason = invalidAliasReason(name.toLowerCase());
    if (reason) {
      throw new BadRequest(reason);
    }
    const code = await codeOfAlias(db, name);
    const tenant = code === undefined ? undefined : await findTenant(db, code);
    if (!tenant) {
      throw new NotFound(`no tenant has the alias ${name} on this Machi`);
    }
    return tenant;
  }
  assertTenantCode(name);
  const tenant = await findTenant(db, name);
  if (!tenant) {
    throw new NotFound(`no tenant with code ${name} on this Machi`);
  }
  return tenant;
}

export interface NewTenant {
  code: string;
  name: string;
  nameEn: string;
  /** Aliases to register with it (lowercase slugs, unique across the deployment). */
  aliases?: string[];
}

/**
 * The aliases checked: well formed, each given once, none registered yet.
 * @throws BadRequest for a malformed alias, Conflict for one that names a tenant already
 */
async function checkNewAliases(db: Queryable, aliases: string[]): Promise<void> {
  for (const alias of aliases) {
    const reason = invalidAliasReason(alias);
    if (reason) {
      throw new BadRequest(reason);
    }
  }
  if (new Set(aliases).size !== aliases.length) {
    throw new BadRequest(`an alias is given twice: ${aliases.join(', ')}`);
  }
  const { rows } = await db.query<{ alias: string; code: string }>(
    'select alias, code from platform.tenant_aliases where alias = any($1::text[]) order by alias',
    [aliases],
  );
  if (rows[0]) {
    throw new Conflict(`the alias ${rows[0].alias} already names tenant ${rows[0].code}`);
  }
}

/** A unique violation on the aliases (another process registered the same alias meanwhile) as a Conflict. */
function aliasTaken(error: unknown, aliases: string[]): never {
  if ((error as { code?: string }).code === '23505') {
    throw new Conflict(`one of the aliases ${aliases.join(', ')} was registered meanwhile`);
  }
  throw error;
}

/**
 * Registers more aliases for an existing tenant (named by its code or an alias).
 * @throws BadRequest for a malformed alias, Conflict for a taken one, NotFound for no such tenant
 */
export async function addTenantAliases(db: Queryable, name: string, aliases: string[]): Promise<Tenant> {
  const tenant = await requireTenant(db, name);
  const wanted = aliases.map((a) => a.trim());
  await checkNewAliases(db, wanted);
  try {
    await db.query(
      `insert into platform.tenant_aliases (alias, code)
       select alias, $2 from unnest($1::text[]) with ordinality as u(alias, n) order by n`,
      [wanted, tenant.code],
    );
  } catch (error) {
    aliasTaken(error, wanted);
  }
  return { ...tenant, aliases: [...tenant.aliases, ...wanted].sort() };
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
  const aliases = (input.aliases ?? []).map((a) => a.trim());
  const kind = tenantKindOf(input.code);
  const parent = kind === 'municipality' ? prefectureCodeOf(input.code) : null;
  if (parent && !(await findTenant(db, parent))) {
    throw new NotFound(`add the prefecture ${parent} before its municipality ${input.code}`);
  }
  await checkNewAliases(db, aliases);
  // One statement, so a tenant is never left behind without the aliases it was added with.
  let rows: TenantRow[];
  try {
    ({ rows } = await db.query<TenantRow>(
      `with t as (
         insert into platform.tenants (id, kind, name, name_en, parent_id) values ($1, $2, $3, $4, $5)
         on conflict (id) do nothing
         returning id, kind, name, name_en, parent_id),
       a as (
         insert into platform.tenant_aliases (alias, code)
         select u.alias, t.id from t, unnest($6::text[]) with ordinality as u(alias, n) order by u.n)
       select t.*, array(select unnest($6::text[]) order by 1) as aliases from t`,
      [input.code, kind, input.name.trim(), input.nameEn.trim(), parent, aliases],
    ));
  } catch (error) {
    aliasTaken(error, aliases);
  }
  if (!rows[0]) {
    throw new Conflict(`tenant ${input.code} already exists`);
  }
  return toTenant(rows[0]);
}
