/**
 * Residents' personal entities (types the tenant marked personal) under the resident's consent.
 * Each such entity belongs to one resident (broker.entity_owners). A service reaches it only while
 * acting for that resident (a token from the authorization code flow) and for a stated purpose
 * (`Machi-Purpose`), and only what the consent capability's policy decision point allows: the
 * entity's own category (the type's `*` mapping) decides whether it exists for the caller, each
 * attribute's category whether that attribute is shown. Nothing here decides alone, and no allow is
 * kept beyond the request. A service acting as itself reaches, in queries only, the entities of the
 * residents who allow it (personal-service.ts). Everything else (staff, other routes) still finds
 * no personal entity at all (authorise.ts). Attributes of a sensitive category are written sealed
 * and opened only once a view here shows them (sealed.ts).
 */
import { type AccessEntry, appendAccessMany, categoriesOf, decide } from '../consent/index.ts';
import { ConsentRequired, type Queryable } from '../platform/index.ts';
import type { StoredEntity } from './entities/model.ts';
import { type AccessScope, checkEntity } from './http/scope.ts';
import { type Reach, serviceActing, serviceCondition, serviceHide } from './personal-service.ts';
import { openAttributes, sealerFor } from './sealed.ts';

/** Who a personal read or write is for: the service, the resident it acts for, the purpose. */
interface Acting {
  clientId: string;
  clientName: string;
  resident: string;
  purpose: string;
}

/** What one personal type shows a caller: whether its entities exist for it, and which attributes. */
export interface PersonalView {
  type: string;
  /** The type's own category (its `*` mapping) is allowed: its entities exist for the caller. */
  visible: boolean;
  /** Whether an attribute (expanded IRI) may be shown, or used in a query. */
  shows(attr: string): boolean;
  /** The category of an attribute (or of the entity itself, `*`), when it has one. */
  categoryOf(attr: string): string | undefined;
}

/** One line of the resident's access log (data tracker) for a decision on their entities. */
function accessEntry(
  acting: Acting,
  resident: string,
  entities: readonly string[],
  categories: readonly string[],
  action: 'read' | 'write',
  allowed: boolean,
): AccessEntry {
  return {
    resident,
    actor: { kind: 'client', id: acting.clientId, name: acting.clientName },
    purpose: acting.purpose,
    categories: [...new Set(categories)],
    entities,
    action,
    decision: allowed ? 'allow' : 'deny',
    reason: allowed ? 'consent' : 'no-consent',
  };
}

/** The categories of what an entity shows through the views (the entity's own and its attributes'). */
function categoriesShown(entity: StoredEntity, views: readonly PersonalView[]): string[] {
  return views.flatMap((v) =>
    ['*', ...Object.keys(entity.attrs)]
      .map((a) => v.categoryOf(a))
      .filter((c): c is string => c !== undefined),
  );
}

/** The personal types among an entity's types. */
export function personalTypes(scope: AccessScope, types: readonly string[]): string[] {
  return types.filter((t) => scope.policy.rules.personal.has(t));
}

/** The service, resident and purpose of a caller that may act on personal data at all. */
export function actingFor(scope: AccessScope): Acting | undefined {
  const { subject, accountId } = scope.caller;
  if (!subject || !accountId || !scope.purpose) return undefined;
  return {
    clientId: subject,
    clientName: scope.caller.name ?? subject,
    resident: accountId,
    purpose: scope.purpose,
  };
}

/** The policy decision point's answers within one request, by category: asked once each. */
export type Decisions = Map<string, Promise<boolean>>;

/** Both kinds of answers a query may need: for one resident, and for a service across residents. */
export interface QueryDecisions {
  decisions: Decisions;
  reach: Reach;
}

export const newQueryDecisions = (): QueryDecisions => ({ decisions: new Map(), reach: new Map() });

/**
 * How a personal type appears to the caller for `action`: the attributes given (all the caller
 * will be shown or may filter on) are mapped to categories, and the policy decision point is asked
 * once per category in the request.
 */
export async function personalView(
  tx: Queryable,
  scope: AccessScope,
  acting: Acting,
  type: string,
  attrs: readonly string[],
  action: 'read' | 'write',
  decisions: Decisions = new Map(),
): Promise<PersonalView> {
  const mapped = await categoriesOf(tx, type, ['*', ...attrs]);
  const allows = (category: string) => {
    const key = `${action}:${category}`;
    let answer = decisions.get(key);
    if (!answer) {
      answer = decide(tx, {
        tenant: scope.tenant,
        resident: acting.resident,
        actor: { kind: 'client', clientId: acting.clientId },
        purpose: acting.purpose,
        category,
        action,
      }).then((d) => d.allow);
      decisions.set(key, answer);
    }
    return answer;
  };
  const allowed = new Set<string>();
  for (const category of mapped.categories) {
    if (await allows(category)) allowed.add(category);
  }
  const own = mapped.byAttribute['*'];
  const known = new Set(['*', ...attrs]);
  // An attribute this view was not built for has no category here, so it is not shown.
  const categoryOf = (attr: string) => (known.has(attr) ? (mapped.byAttribute[attr] ?? own) : undefined);
  const shows = (attr: string) => {
    const category = categoryOf(attr);
    return category !== undefined && allowed.has(category);
  };
  return { type, visible: own !== undefined && allowed.has(own), shows, categoryOf };
}

/** The resident an entity belongs to. */
export async function ownerOf(tx: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ owner: string }>(
    'select owner from broker.entity_owners where entity_id = $1',
    [id],
  );
  return rows[0]?.owner;
}

/**
 * The entity as the caller may see it: undefined when it is not the acting resident's, or its
 * category is not allowed; otherwise without the attributes whose category is not.
 */
export async function personalRead(
  tx: Queryable,
  scope: AccessScope,
  entity: StoredEntity,
): Promise<StoredEntity | undefined> {
  const acting = actingFor(scope);
  const owner = await ownerOf(tx, entity.id);
  if (!acting || !owner) return undefined;
  const types = personalTypes(scope, entity.types);
  if (owner !== acting.resident) {
    // An attempt on another resident's record: it goes in that resident's log, refused.
    const own = await categoriesOf(tx, types[0] ?? '', ['*']);
    await appendAccessMany(tx, scope.tenant, [
      accessEntry(acting, owner, [entity.id], own.categories, 'read', false),
    ]);
    return undefined;
  }
  const views = await Promise.all(
    types.map((t) => personalView(tx, scope, acting, t, Object.keys(entity.attrs), 'read')),
  );
  const visible = views.every((v) => v.visible);
  const shown = visible ? hideAttributes(entity, views) : undefined;
  const categories = shown
    ? categoriesShown(shown, views)
    : views.map((v) => v.categoryOf('*') ?? '').filter(Boolean);
  await appendAccessMany(tx, scope.tenant, [
    accessEntry(acting, owner, [entity.id], categories, 'read', visible),
  ]);
  return shown && (await openShown(tx, scope, [shown]))[0];
}

/**
 * Personal entities as the views left them, their sealed attributes opened: what is left is what
 * the caller may see. Only personal entities are opened: a type no longer marked personal keeps
 * its sealed values sealed for everyone.
 */
async function openShown(
  tx: Queryable,
  scope: AccessScope,
  entities: StoredEntity[],
): Promise<StoredEntity[]> {
  const personal = entities.filter((e) => personalTypes(scope, e.types).length > 0);
  const opened = await openAttributes(tx, scope.keys, scope.tenant, personal);
  const byEntity = new Map(personal.map((e, i) => [e, opened[i] as StoredEntity]));
  return entities.map((e) => byEntity.get(e) ?? e);
}

/** The entity with only the attributes every one of its personal types' views shows. */
export function hideAttributes(entity: StoredEntity, views: readonly PersonalView[]): StoredEntity {
  const attrs = Object.fromEntries(
    Object.entries(entity.attrs).filter(([attr]) => views.every((v) => v.shows(attr))),
  );
  return { ...entity, attrs };
}

/**
 * Checks a new personal entity before it is written for the acting resident, and records it as
 * theirs once written (`write` inserts the entity, stored as `seal` makes it: its attributes of a
 * sensitive category sealed). A refusal by the policy decision point is logged and returned, not
 * thrown, so that its log line commits with the transaction.
 * @returns ConsentRequired naming what no consent covers (never anything about other residents)
 * @throws ConsentRequired when the caller may not act for a resident at all
 */
export async function createPersonal(
  tx: Queryable,
  scope: AccessScope,
  entity: StoredEntity,
  write: (seal: (stored: StoredEntity) => StoredEntity) => Promise<void>,
): Promise<ConsentRequired | undefined> {
  const acting = actingFor(scope);
  if (!acting) {
    if (scope.caller.accountId && !scope.purpose) {
      throw new ConsentRequired(
        'personal data is written for a stated purpose: send it in the Machi-Purpose header',
      );
    }
    // Anyone else gets the broker's usual refusal: a token is needed, then the resident's consent.
    checkEntity(scope, 'write', entity);
    throw new ConsentRequired('personal data is written only by a service acting for the resident');
  }
  const attrs = Object.keys(entity.attrs);
  for (const type of personalTypes(scope, entity.types)) {
    const view = await personalView(tx, scope, acting, type, attrs, 'write');
    const refused = attrs.filter((attr) => !view.shows(attr));
    if (!view.visible || refused.length > 0) {
      const categories = ['*', ...refused].map((a) => view.categoryOf(a)).filter((c): c is string => !!c);
      await appendAccessMany(tx, scope.tenant, [
        accessEntry(acting, acting.resident, [entity.id], categories, 'write', false),
      ]);
      return new ConsentRequired(
        `the resident's consent does not cover writing ${view.visible ? refused.join(', ') : type} for ${acting.purpose}`,
      );
    }
  }
  await write(await sealerFor(tx, scope.keys, scope.tenant, personalTypes(scope, entity.types), attrs));
  await tx.query('insert into broker.entity_owners (tenant_id, entity_id, owner) values ($1, $2, $3)', [
    scope.tenant,
    entity.id,
    acting.resident,
  ]);
  const views = await Promise.all(
    personalTypes(scope, entity.types).map((t) => personalView(tx, scope, acting, t, attrs, 'write')),
  );
  await appendAccessMany(tx, scope.tenant, [
    accessEntry(acting, acting.resident, [entity.id], categoriesShown(entity, views), 'write', true),
  ]);
  return undefined;
}

/** Refuses a query that names an attribute the caller may not see on a personal type it reaches. */
export function refuseHiddenFilters(views: readonly PersonalView[], attrs: readonly string[]): void {
  for (const view of views) {
    const hidden = attrs.filter((attr) => !view.shows(attr));
    if (view.visible && hidden.length > 0) {
      throw new ConsentRequired(
        `the query filters on ${hidden.join(', ')}, which the resident's consent does not let this caller see on ${view.type}`,
      );
    }
  }
}

/**
 * The query's condition for personal entities: those of the acting resident whose types' own
 * category the caller may read, none of another personal type. `filterAttrs` are the attributes
 * the query filters on (q, geoproperty): one the caller may not see on a reachable type refuses the
 * query, so that a filter never tells anything the entities themselves would not show.
 */
export async function personalCondition(
  tx: Queryable,
  scope: AccessScope,
  filterAttrs: readonly string[],
  add: (value: unknown) => string,
  { decisions, reach }: QueryDecisions,
): Promise<string | undefined> {
  const acting = actingFor(scope);
  const types = [...scope.policy.rules.personal];
  if (types.length === 0) return undefined;
  if (!acting) {
    const service = serviceActing(scope);
    return service && serviceCondition(tx, scope, service, filterAttrs, add, reach);
  }
  const views = await Promise.all(
    types.map((t) => personalView(tx, scope, acting, t, filterAttrs, 'read', decisions)),
  );
  refuseHiddenFilters(views, filterAttrs);
  const visible = views.filter((v) => v.visible).map((v) => v.type);
  if (visible.length === 0) return undefined;
  const others = types.filter((t) => !visible.includes(t));
  return [
    `(e.types && ${add(visible)}::text[]`,
    others.length > 0 ? ` and not (e.types && ${add(others)}::text[])` : '',
    ` and exists (select 1 from broker.entity_owners o where o.entity_id = e.id and o.owner = ${add(acting.resident)}::uuid))`,
  ].join('');
}

/** Each personal entity of a query's answer without the attributes the caller may not see. */
export async function hidePersonalAttributes(
  tx: Queryable,
  scope: AccessScope,
  entities: StoredEntity[],
  { decisions, reach }: QueryDecisions,
): Promise<StoredEntity[]> {
  const acting = actingFor(scope);
  if (!acting) {
    const service = serviceActing(scope);
    return service ? openShown(tx, scope, await serviceHide(tx, scope, service, entities, reach)) : entities;
  }
  const log: AccessEntry[] = [];
  const shown = await Promise.all(
    entities.map(async (entity) => {
      const types = personalTypes(scope, entity.types);
      if (types.length === 0) return entity;
      const attrs = Object.keys(entity.attrs);
      const views = await Promise.all(
        types.map((t) => personalView(tx, scope, acting, t, attrs, 'read', decisions)),
      );
      const visible = hideAttributes(entity, views);
      log.push(
        accessEntry(acting, acting.resident, [entity.id], categoriesShown(visible, views), 'read', true),
      );
      return visible;
    }),
  );
  // One log line per entity read, all in the query's transaction: no answer without its record.
  await appendAccessMany(tx, scope.tenant, log);
  return openShown(tx, scope, shown);
}
