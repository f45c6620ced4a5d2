/**
 * NGSILD-Tenant (ETSI GS CIM 009 §4.14): a municipality or prefecture by its 全国地方公共団体コード or
 * by one of its registered aliases (`sendai`). Without the header, the deployment's default tenant
 * serves the request. Whatever name the client used, the broker works with the code from here on:
 * rows, notifications and answers carry the code only.
 */
import {
  codeOfAlias,
  type Db,
  findTenant,
  invalidAliasReason,
  invalidCodeReason,
  looksLikeAlias,
} from '../platform/index.ts';
import { NonexistentTenant } from './errors.ts';

/**
 * Codes of the names (codes and aliases) known to exist, per database, for a minute: tenants and
 * aliases are added rarely and never removed or reassigned, and looking one up on every request
 * would cost a round trip. Unknown names are never cached, so a tenant added meanwhile is found.
 */
const known = new WeakMap<Db, Map<string, { code: string; until: number }>>();
const KNOWN_FOR_MS = 60_000;

async function lookUp(db: Db, name: string, isAlias: boolean): Promise<string | undefined> {
  let cache = known.get(db);
  if (!cache) {
    cache = new Map();
    known.set(db, cache);
  }
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) {
    return hit.code;
  }
  const code = isAlias ? await codeOfAlias(db, name) : (await findTenant(db, name))?.code;
  if (code !== undefined) {
    cache.set(name, { code, until: Date.now() + KNOWN_FOR_MS });
  }
  return code;
}

/**
 * The code of the tenant a request names.
 * @throws NonexistentTenant for a name that is malformed or no tenant of this Machi
 */
export async function resolveTenant(
  db: Db,
  header: string | undefined,
  defaultTenant: string | undefined,
): Promise<string> {
  const name = header?.trim() || defaultTenant || (await firstPrefecture(db));
  if (!name) {
    throw new NonexistentTenant('this Machi has no tenant yet; add one with `machi tenant add`');
  }
  if (looksLikeAlias(name)) {
    const alias = name.toLowerCase();
    const reason = invalidAliasReason(alias);
    if (reason) {
      throw new NonexistentTenant(
        `NGSILD-Tenant is neither a 全国地方公共団体コード nor an alias: ${reason}`,
      );
    }
    const code = await lookUp(db, alias, true);
    if (code === undefined) {
      throw new NonexistentTenant(`no tenant has the alias ${alias} on this Machi`);
    }
    return code;
  }
  const reason = invalidCodeReason(name);
  if (reason) {
    throw new NonexistentTenant(`NGSILD-Tenant ${reason}`);
  }
  if ((await lookUp(db, name, false)) === undefined) {
    throw new NonexistentTenant(`no tenant with code ${name} on this Machi`);
  }
  return name;
}

async function firstPrefecture(db: Db): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `select id from platform.tenants order by kind = 'prefecture' desc, id limit 1`,
  );
  return rows[0]?.id;
}
