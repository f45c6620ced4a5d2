/**
 * NGSILD-Tenant (ETSI GS CIM 009 §4.14): a municipality or prefecture by its 全国地方公共団体コード.
 * Without the header, the deployment's default tenant serves the request.
 */
import { type Db, findTenant, invalidCodeReason } from '../platform/index.ts';
import { NonexistentTenant } from './errors.ts';

/**
 * Tenants known to exist, per database, for a minute: tenants are added rarely and never removed,
 * and looking one up on every request would cost a round trip. Unknown codes are never cached.
 */
const known = new WeakMap<Db, Map<string, number>>();
const KNOWN_FOR_MS = 60_000;

async function tenantExists(db: Db, code: string): Promise<boolean> {
  let cache = known.get(db);
  if (!cache) {
    cache = new Map();
    known.set(db, cache);
  }
  const until = cache.get(code);
  if (until !== undefined && until > Date.now()) {
    return true;
  }
  const exists = (await findTenant(db, code)) !== undefined;
  if (exists) {
    cache.set(code, Date.now() + KNOWN_FOR_MS);
  }
  return exists;
}

/** @throws NonexistentTenant for a code that is malformed or not a tenant of this Machi */
export async function resolveTenant(
  db: Db,
  header: string | undefined,
  defaultTenant: string | undefined,
): Promise<string> {
  const code = header?.trim() || defaultTenant || (await firstPrefecture(db));
  if (!code) {
    throw new NonexistentTenant('this Machi has no tenant yet; add one with `machi tenant add`');
  }
  const reason = invalidCodeReason(code);
  if (reason) {
    throw new NonexistentTenant(`NGSILD-Tenant ${reason}`);
  }
  if (!(await tenantExists(db, code))) {
    throw new NonexistentTenant(`no tenant with code ${code} on this Machi`);
  }
  return code;
}

async function firstPrefecture(db: Db): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `select id from platform.tenants order by kind = 'prefecture' desc, id limit 1`,
  );
  return rows[0]?.id;
}
