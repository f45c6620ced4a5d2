/**
 * Which subscriptions an entity change notifies (ETSI GS CIM 009 §5.8.6, §5.11), decided inside the
 * write's transaction: a notification job exists exactly when the change commits.
 *
 * For a group of changes (one entity, or a batch's): the statement that writes them also reads the
 * tenant's candidates for all of them, by trigger, entity selector (type, id, idPattern) and
 * watchedAttributes, using the GIN index on entity_types (`readCandidates`); a selector's type
 * selection with `;` or parentheses (§4.17) is then tested in JS on the entity's types. Only when
 * there are candidates: one more statement evaluates the q, scopeQ and geoQ of all candidates that
 * have them against the entities' new states; throttled subscriptions claim their window with one
 * row update; then one statement adds one job per (subscription, change).
 */
import { enqueueMany, type Queryable } from '../../platform/index.ts';
import type { EntityChange } from '../entities/changes.ts';
import type { StoredEntity } from '../entities/model.ts';
import type { WriteStatement } from '../entities/write-statement.ts';
import { compileGeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { compileScopeQ, parseScopeQ } from '../query/scope-q.ts';
import { SqlParams } from '../query/sql-params.ts';
import { matchesTypeExpr, type TypeExpr } from '../query/type-expr.ts';
import type { GeoQText, Trigger } from './model.ts';

export const NOTIFY_QUEUE = 'broker.notify';
/** Attempts of one notification before its job is dead (with the platform's exponential backoff). */
export const NOTIFY_MAX_ATTEMPTS = 5;

/** What a notification job carries: the entity as the change left it, so later changes do not alter it. */
export interface NotifyPayload {
  subscriptionId: string;
  entity: StoredEntity;
  /** The state before an update, for showChanges (§5.2.14). */
  before?: StoredEntity;
  deleted: boolean;
  at: string;
}

interface Candidate {
  /** The change (its place in the group) and entity this subscription is a candidate for. */
  i: number;
  entity_id: string;
  id: string;
  q: string | null;
  scope_q: string | null;
  geo_q: GeoQText | null;
  /**
   * For a subscription with entity selectors, the type selection of each selector that the entity's
   * id and any of its types met (null for a plain list of types): the entity matches when one holds.
   */
  type_exprs: (TypeExpr | null)[] | null;
  expansions: Record<string, string>;
  throttling: number | null;
  show_changes: boolean;
}

/** The attributes a change created, updated or deleted, by trigger (§5.2.12 notificationTrigger). */
export function classify(change: EntityChange): Partial<Record<Trigger, string[]>> {
  const before = change.before?.attrs ?? {};
  const after = change.after?.attrs ?? {};
  if (change.kind === 'create') {
    const all = Object.keys(after);
    return { entityCreated: all, ...(all.length ? { attributeCreated: all } : {}) };
  }
  if (change.kind === 'delete') {
    return { entityDeleted: Object.keys(before) };
  }
  const touched = new Set(change.attributes);
  if (change.kind === 'replace') {
    // A replacement also removes every attribute it does not repeat.
    for (const name of Object.keys(before)) touched.add(name);
  }
  const classes: Partial<Record<Trigger, string[]>> = {};
  const add = (trigger: Trigger, name: string) => {
    classes[trigger] = [...(classes[trigger] ?? []), name];
  };
  for (const name of touched) {
    if (name in after) add(name in before ? 'attributeUpdated' : 'attributeCreated', name);
    else if (name in before) add('attributeDeleted', name);
  }
  // §5.2.12: entityUpdated stands for attributeCreated, attributeUpdated and attributeDeleted together.
  const changed = Object.values(classes).flat();
  if (changed.length) classes.entityUpdated = changed;
  return classes;
}

/** What the write statement read for this hook: each change's candidates, and the transaction id. */
export interface CandidateRead {
  candidates: Candidate[];
  xid: string;
}

const entityOf = (change: EntityChange) => (change.after ?? change.before) as StoredEntity;

function groupBy<T>(list: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of list) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Adds to the write statement of a group of changes the read of their candidates: the tenant's
 * subscriptions by trigger, entity selector (type, id, idPattern) and watchedAttributes, found for
 * all the changes at once with the GIN index on entity_types. A tenant without subscriptions pays
 * nothing more than this part of the statement.
 */
export function readCandidates(statement: WriteStatement, changes: EntityChange[]): void {
  const p = statement.params;
  const rows = changes.map((change, i) => {
    const entity = entityOf(change);
    const classes = classify(change);
    return { i, id: entity.id, types: entity.types, triggers: Object.keys(classes), classes };
  });
  const tenant = p.add(changes[0]?.tenant);
  statement.column(
    'candidates',
    `(select coalesce(jsonb_agg(to_jsonb(m) order by m.i, m.id), '[]'::jsonb) from (
      select c.i, c.id as entity_id, s.id, s.q, s.body->>'scopeQ' as scope_q, s.geo_q, s.expansions,
             s.throttling, coalesce((s.body->'$notification'->>'showChanges')::boolean, false) as show_changes,
             sm.type_exprs
        from jsonb_to_recordset(${p.add(JSON.stringify(rows))}::jsonb)
               as c(i integer, id text, types text[], triggers text[], classes jsonb)
        join broker.subscriptions s
          on s.tenant_id = ${tenant} and s.is_active and s.time_interval is null
         and (s.expires_at is null or s.expires_at > now())
         and s.triggers && c.triggers
         and (s.entity_types is null or s.entity_types && c.types)
       cross join lateral (
              select count(*) as n, jsonb_agg(sel."typeExpr") as type_exprs
                from jsonb_to_recordset(coalesce(s.entities, '[]'::jsonb))
                       sel(types text[], "typeExpr" jsonb, id text, "idPattern" text)
               where sel.types && c.types and (sel.id is null or sel.id = c.id)
                 and (sel."idPattern" is null or c.id ~ sel."idPattern")) sm
       where (s.entities is null or sm.n > 0)
         and exists (
              select 1 from unnest(s.triggers) t
               where c.classes ? t and (s.watched_attributes is null
                 or s.watched_attributes && array(select jsonb_array_elements_text(c.classes -> t))))) m)`,
  );
  statement.column('xid', 'pg_current_xact_id()::text');
}

/** A change and one subscription it may notify. */
interface Pair {
  change: EntityChange;
  entity: StoredEntity;
  candidate: Candidate;
}

/**
 * The change hook, after the write statement: enqueues one notification job per (matching
 * subscription, change), for all the changes of the group at once.
 */
export async function notifySubscribers(
  tx: Queryable,
  changes: EntityChange[],
  read: CandidateRead,
): Promise<void> {
  const byEntity = groupBy(read.candidates, (c) => c.entity_id);
  const pairs = changes.flatMap((change) => {
    const entity = entityOf(change);
    return (byEntity.get(entity.id) ?? [])
      .filter(
        (c) => !c.type_exprs || c.type_exprs.some((expr) => !expr || matchesTypeExpr(expr, entity.types)),
      )
      .map((candidate) => ({ change, entity, candidate }));
  });
  if (pairs.length === 0) {
    return;
  }
  const matched = await evaluateConditions(tx, pairs);
  const notified = await claimThrottled(tx, matched);
  await enqueueMany(
    tx,
    NOTIFY_QUEUE,
    notified.map(({ change, entity, candidate: sub }) => {
      const payload: NotifyPayload = {
        subscriptionId: sub.id,
        entity,
        ...(sub.show_changes && change.after && change.before ? { before: change.before } : {}),
        deleted: change.kind === 'delete',
        at: change.at,
      };
      return {
        payload: { ...payload },
        options: {
          tenantId: change.tenant,
          // One job per (subscription, change), whatever calls this twice: a change is its entity, time and transaction.
          idempotencyKey: `${sub.id}|${entity.id}|${change.kind}|${change.at}|${read.xid}`,
          maxAttempts: NOTIFY_MAX_ATTEMPTS,
        },
      };
    }),
  );
}

const parsedQ = new Map<string, QExpr>();

/** Parsed q expressions by text, kept small: the same few q's are evaluated on every write. */
function cachedQ(text: string): QExpr {
  let expr = parsedQ.get(text);
  if (!expr) {
    expr = parseQ(text);
    parsedQ.set(text, expr);
    if (parsedQ.size > 1000) parsedQ.delete(parsedQ.keys().next().value as string);
  }
  return expr;
}

const conditional = (c: Candidate) => Boolean(c.q || c.geo_q || c.scope_q);

/**
 * Evaluates the q, scopeQ and geoQ of every candidate that has them, for all the changes at once, in
 * one statement over the entities' states (§5.11: the new state; on deletion the last one), each
 * subscription's conditions compiled once. The states are given as rows of values, so a deleted
 * entity can be tested too; its geometries are gone with it, so a deletion never matches a geoQ.
 */
async function evaluateConditions(tx: Queryable, pairs: Pair[]): Promise<Pair[]> {
  const tested = pairs.filter((pair) => conditional(pair.candidate));
  if (tested.length === 0) {
    return pairs;
  }
  const params = new SqlParams();
  const entities = [...new Set(tested.map((pair) => pair.entity))];
  const rowOf = new Map(entities.map((entity, i) => [entity, i]));
  const bySubscription = groupBy(tested, (pair) => pair.candidate.id);
  const subscriptionIndex = new Map([...bySubscription.keys()].map((id, index) => [id, index]));
  const tests = [...bySubscription.values()].map((group, index) => {
    const c = (group[0] as Pair).candidate;
    const expand = (term: string) => c.expansions[term] ?? term;
    const where: string[] = [];
    if (c.q) where.push(compileQ(cachedQ(c.q), { params, expand }));
    if (c.scope_q) where.push(compileScopeQ(parseScopeQ(c.scope_q), params));
    const geo = c.geo_q ? parseGeoQuery(c.geo_q) : undefined;
    if (geo) where.push(compileGeoQuery(geo, { params, expand }));
    const rows = params.add(group.map((pair) => rowOf.get(pair.entity)));
    // Only for the entities it is a candidate of: the inner case is not evaluated for the others.
    return `case when e.i = any(${rows}::integer[]) then case when ${where.join(' and ')} then ${index} end end`;
  });
  const tenant = (tested[0] as Pair).change.tenant;
  const values = entities.map((entity, i) => ({
    i,
    tenant_id: tenant,
    id: entity.id,
    types: entity.types,
    attrs: entity.attrs,
    scopes: entity.scopes,
  }));
  const { rows } = await tx.query<{ i: number; hits: number[] }>(
    `select e.i, array_remove(array[${tests.join(', ')}], null) as hits
       from jsonb_to_recordset(${params.add(JSON.stringify(values))}::jsonb)
              as e(i integer, tenant_id text, id text, types text[], attrs jsonb, scopes text[])`,
    params.values,
  );
  const hits = new Set(rows.flatMap((row) => row.hits.map((index) => `${index} ${row.i}`)));
  const hit = (pair: Pair) =>
    hits.has(`${subscriptionIndex.get(pair.candidate.id)} ${rowOf.get(pair.entity)}`);
  return pairs.filter((pair) => !conditional(pair.candidate) || hit(pair));
}

/**
 * §5.8.6: no notification within `throttling` seconds of the last one; a change inside the window is
 * not notified (dropped, not delayed), and of several changes of one group that a throttled
 * subscription matches only the first is. The row update serialises concurrent writers: the second
 * one re-reads the claimed time after the first commits and finds the window closed.
 */
async function claimThrottled(tx: Queryable, matched: Pair[]): Promise<Pair[]> {
  const throttled = [...new Set(matched.filter((p) => p.candidate.throttling).map((p) => p.candidate.id))];
  if (throttled.length === 0) {
    return matched;
  }
  const { rows } = await tx.query<{ id: string }>(
    `update broker.subscriptions set last_queued_at = clock_timestamp()
      where id = any($1::text[])
        and (last_queued_at is null
             or last_queued_at <= clock_timestamp() - make_interval(secs => throttling))
      returning id`,
    [throttled],
  );
  const claimed = new Set(rows.map((r) => r.id));
  return matched.filter((p) => {
    if (!p.candidate.throttling) return true;
    // The first change of the group takes the claimed window; the others fall inside it.
    return claimed.delete(p.candidate.id);
  });
}
