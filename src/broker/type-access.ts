/**
 * A tenant's classes of entity types (migrations/006_type_access.sql): `public` types are open data,
 * readable without a token; `personal` types hold residents' personal data. authorise.ts decides
 * with them; this file stores them and keeps them at hand.
 *
 * Every broker request needs its tenant's classes, so they are kept per process for a few seconds
 * (one small query per tenant and process at most every RULES_FOR_MS), and dropped at once when
 * this process changes them. Another process (a `machi broker types` command, another API process)
 * sees a change within RULES_FOR_MS.
 */
import { BadRequest, type Db } from '../platform/index.ts';
import type { TypeRules } from './authorise.ts';
import { coreContextDocument, isCoreContextUrl } from './context/core.ts';
import { type ActiveContext, ContextResolver } from './context/json-ld.ts';
import { assertName } from './entities/parse-entity.ts';
import { LdContextNotAvailable } from './errors.ts';

export type TypeAccess = 'public' | 'personal';

export interface TypeAccessEntry {
  /** Expanded IRI. */
  type: string;
  access: TypeAccess;
}

/** Changes to a tenant's classes, by expanded type IRI. */
export interface TypeMarks {
  public?: string[];
  personal?: string[];
  /** Back to neither public nor personal. */
  unmark?: string[];
}

const RULES_FOR_MS = 10_000;

const cache = new WeakMap<Db, Map<string, { rules: Promise<TypeRules>; until: number }>>();

function tenantCache(db: Db) {
  let perTenant = cache.get(db);
  if (!perTenant) {
    perTenant = new Map();
    cache.set(db, perTenant);
  }
  return perTenant;
}

export async function listTypeAccess(db: Db, tenant: string): Promise<TypeAccessEntry[]> {
  const { rows } = await db.withTenant(tenant, (tx) =>
    tx.query<TypeAccessEntry>('select type, access from broker.type_access order by access, type'),
  );
  return rows;
}

async function loadRules(db: Db, tenant: string): Promise<TypeRules> {
  const entries = await listTypeAccess(db, tenant);
  const of = (access: TypeAccess) => new Set(entries.filter((e) => e.access === access).map((e) => e.type));
  return { public: of('public'), personal: of('personal') };
}

/** The tenant's classes of types, from this process's cache when they are fresh. */
export function typeRules(db: Db, tenant: string): Promise<TypeRules> {
  const perTenant = tenantCache(db);
  const hit = perTenant.get(tenant);
  if (hit && hit.until > Date.now()) {
    return hit.rules;
  }
  // The promise is shared, so a burst of requests for one tenant makes one query.
  const entry = { rules: loadRules(db, tenant), until: Date.now() + RULES_FOR_MS };
  perTenant.set(tenant, entry);
  entry.rules.catch(() => {
    if (perTenant.get(tenant) === entry) {
      perTenant.delete(tenant);
    }
  });
  return entry.rules;
}

/**
 * Applies the changes (a type named in two of the lists is refused) and returns the tenant's
 * classes afterwards; this process's cache of them is dropped.
 * @throws BadRequest when one type is given two classes
 */
export async function setTypeAccess(db: Db, tenant: string, marks: TypeMarks): Promise<TypeAccessEntry[]> {
  const lists = [marks.public ?? [], marks.personal ?? [], marks.unmark ?? []];
  const all = lists.flat();
  const twice = all.find((type, index) => all.indexOf(type) !== index);
  if (twice !== undefined) {
    throw new BadRequest(`${twice} is named twice; give each type one class`);
  }
  const [publicTypes, personalTypes, unmarked] = lists;
  await db.withTenant(tenant, async (tx) => {
    await tx.query(
      `insert into broker.type_access (tenant_id, type, access)
       select $1, u.type, u.access
         from (select unnest($2::text[]) as type, 'public' as access
               union all select unnest($3::text[]), 'personal') u
       on conflict (tenant_id, type) do update set access = excluded.access, modified_at = now()`,
      [tenant, publicTypes, personalTypes],
    );
    await tx.query('delete from broker.type_access where type = any($1::text[])', [unmarked]);
  });
  tenantCache(db).delete(tenant);
  return listTypeAccess(db, tenant);
}

/** The core @context alone: names given to the CLI and the demo are short names of it, or IRIs. */
const core = new ContextResolver(async (url) => {
  if (!isCoreContextUrl(url)) {
    throw new LdContextNotAvailable(`only the core @context names entity types here, not ${url}`);
  }
  return { contextUrl: null, documentUrl: url, document: coreContextDocument };
});

export function coreContext(): Promise<ActiveContext> {
  return core.resolve([]);
}

/**
 * Classes entity types of a tenant, named by short names (expanded with the core @context, so `AED`
 * is https://uri.etsi.org/ngsi-ld/default-context/AED) or by IRIs; returns the tenant's classes
 * afterwards, named as short as the core context allows.
 * @throws BadRequestData for a name that is no valid type name, BadRequest for one given two classes
 */
export async function markEntityTypes(db: Db, tenant: string, marks: TypeMarks): Promise<TypeAccessEntry[]> {
  const ctx = await coreContext();
  const expand = (names: string[] | undefined) =>
    names?.map((name) => {
      assertName(name, 'type');
      return ctx.expand(name);
    });
  await setTypeAccess(db, tenant, {
    public: expand(marks.public),
    personal: expand(marks.personal),
    unmark: expand(marks.unmark),
  });
  return entityTypeMarks(db, tenant);
}

/** The tenant's classes of entity types, named as short as the core @context allows. */
export async function entityTypeMarks(db: Db, tenant: string): Promise<TypeAccessEntry[]> {
  const ctx = await coreContext();
  return (await listTypeAccess(db, tenant)).map((e) => ({ ...e, type: ctx.compact(e.type) }));
}
