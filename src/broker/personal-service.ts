/**
 * Personal entities for a service acting as itself (client credentials) across many residents: a
 * query reaches the entities of exactly the residents whose consent (or the declared legal basis)
 * allows the service this purpose for the entity's category and for every category the query
 * filters on, and each entity shows only the attributes its owner allows. One access-log line per
 * entity read goes to its owner's log. Decisions come from consent's `decideMany`, once per category
 * and request.
 */
import {
  type AccessEntry,
  appendAccessMany,
  type CategoriesOf,
  categoriesOf,
  decideMany,
  type ManyDecision,
} from '../consent/index.ts';
import { ConsentRequired, type Queryable } from '../platform/index.ts';
import type { StoredEntity } from './entities/model.ts';
import type { AccessScope } from './http/scope.ts';

interface ServiceActing {
  clientId: string;
  clientName: string;
  purpose: string;
}

/** The policy decision point's answers in one request, by category. */
export type Reach = Map<string, Promise<ManyDecision>>;

/** A service with a token of its own (no resident) and a stated purpose. */
export function serviceActing(scope: AccessScope): ServiceActing | undefined {
  const { subject, accountId, name } = scope.caller;
  if (!subject || accountId || !scope.purpose) return undefined;
  return { clientId: subject, clientName: name ?? subject, purpose: scope.purpose };
}

function reachOf(tx: Queryable, scope: AccessScope, acting: ServiceActing, category: string, reach: Reach) {
  let answer = reach.get(category);
  if (!answer) {
    answer = decideMany(tx, {
      tenant: scope.tenant,
      actor: { kind: 'client', clientId: acting.clientId },
      purpose: acting.purpose,
      category,
      action: 'read',
    });
    reach.set(category, answer);
  }
  return answer;
}

/** Each decision's residents as a set, so that a page of many entities asks it in constant time. */
const residentSets = new WeakMap<ManyDecision, ReadonlySet<string>>();

function allowsOwner(decision: ManyDecision, owner: string): boolean {
  if (!decision.allow) return false;
  if (decision.everyone) return true;
  let residents = residentSets.get(decision);
  if (!residents) {
    residents = new Set(decision.residents);
    residentSets.set(decision, residents);
  }
  return residents.has(owner);
}

/**
 * The categories of a type's attributes, read once per request for each type and set of
 * attributes: the entities of a page mostly share both, and each would otherwise cost a query.
 */
type Mappings = Map<string, Promise<CategoriesOf>>;

function mappingsOf(tx: Queryable, type: string, attrs: readonly string[], mappings: Mappings) {
  const key = JSON.stringify([type, attrs]);
  let mapped = mappings.get(key);
  if (!mapped) {
    mapped = categoriesOf(tx, type, attrs);
    mappings.set(key, mapped);
  }
  return mapped;
}

/**
 * The query's condition for personal entities reached by a service as itself; undefined when it
 * reaches none. A filter on an attribute no category covers is refused.
 */
export async function serviceCondition(
  tx: Queryable,
  scope: AccessScope,
  acting: ServiceActing,
  filterAttrs: readonly string[],
  add: (value: unknown) => string,
  reach: Reach,
): Promise<string | undefined> {
  const types = [...scope.policy.rules.personal];
  const clauses: string[] = [];
  for (const type of types) {
    const mapped = await categoriesOf(tx, type, ['*', ...filterAttrs]);
    const own = mapped.byAttribute['*'];
    if (!own) continue;
    const needed = [...new Set([own, ...filterAttrs.map((a) => mapped.byAttribute[a] ?? own)])];
    const decisions = await Promise.all(needed.map((c) => reachOf(tx, scope, acting, c, reach)));
    if (decisions.some((d) => !d.allow)) continue;
    const lists = decisions.filter((d) => !d.everyone).map((d) => new Set(d.residents));
    const owners =
      lists.length === 0 ? undefined : [...(lists[0] ?? [])].filter((r) => lists.every((l) => l.has(r)));
    if (owners?.length === 0) continue;
    const others = types.filter((t) => t !== type);
    clauses.push(
      [
        `(e.types && ${add([type])}::text[]`,
        others.length > 0 ? ` and not (e.types && ${add(others)}::text[])` : '',
        ' and exists (select 1 from broker.entity_owners o where o.entity_id = e.id',
        owners ? ` and o.owner = any(${add(owners)}::uuid[])` : '',
        '))',
      ].join(''),
    );
  }
  return clauses.length > 0 ? `(${clauses.join(' or ')})` : undefined;
}

/** Each personal entity with only the attributes its owner allows, its read logged for the owner. */
export async function serviceHide(
  tx: Queryable,
  scope: AccessScope,
  acting: ServiceActing,
  entities: StoredEntity[],
  reach: Reach,
): Promise<StoredEntity[]> {
  const personal = entities.filter((e) => e.types.some((t) => scope.policy.rules.personal.has(t)));
  if (personal.length === 0) return entities;
  const { rows } = await tx.query<{ entity_id: string; owner: string }>(
    'select entity_id, owner from broker.entity_owners where entity_id = any($1::text[])',
    [personal.map((e) => e.id)],
  );
  const owners = new Map(rows.map((r) => [r.entity_id, r.owner]));
  const isPersonal = new Set(personal);
  const mappings: Mappings = new Map();
  const log: AccessEntry[] = [];
  const shown: StoredEntity[] = [];
  for (const entity of entities) {
    const owner = owners.get(entity.id);
    if (!isPersonal.has(entity)) {
      shown.push(entity);
      continue;
    }
    if (!owner) throw new ConsentRequired('a personal entity without an owner is never shown');
    const visible = await ownerView(tx, scope, acting, { entity, owner }, { reach, mappings });
    shown.push(visible.entity);
    log.push({
      resident: owner,
      actor: { kind: 'client', id: acting.clientId, name: acting.clientName },
      purpose: acting.purpose,
      categories: visible.categories,
      entities: [entity.id],
      action: 'read',
      decision: 'allow',
      reason: 'consent',
    });
  }
  await appendAccessMany(tx, scope.tenant, log);
  return shown;
}

/** The attributes of one entity its owner allows the service, and their categories. */
async function ownerView(
  tx: Queryable,
  scope: AccessScope,
  acting: ServiceActing,
  { entity, owner }: { entity: StoredEntity; owner: string },
  { reach, mappings }: { reach: Reach; mappings: Mappings },
): Promise<{ entity: StoredEntity; categories: string[] }> {
  const attrs = Object.keys(entity.attrs);
  const kept = new Set(attrs);
  const categories = new Set<string>();
  for (const type of entity.types.filter((t) => scope.policy.rules.personal.has(t))) {
    const mapped = await mappingsOf(tx, type, ['*', ...attrs], mappings);
    const own = mapped.byAttribute['*'];
    if (own) categories.add(own);
    for (const attr of attrs) {
      const category = mapped.byAttribute[attr] ?? own;
      if (category && allowsOwner(await reachOf(tx, scope, acting, category, reach), owner)) {
        categories.add(category);
      } else {
        kept.delete(attr);
      }
    }
  }
  const filtered = Object.fromEntries(Object.entries(entity.attrs).filter(([a]) => kept.has(a)));
  return { entity: { ...entity, attrs: filtered }, categories: [...categories] };
}
