/**
 * Which subscriptions an entity change notifies (ETSI GS CIM 009 §5.8.6, §5.11), decided inside the
 * write's transaction: a notification job exists exactly when the change commits.
 *
 * Per change: one query finds the tenant's candidates by trigger, entity selector (type, id,
 * idPattern) and watchedAttributes, using the GIN index on entity_types; one more statement
 * evaluates the q and geoQ of all candidates that have them against the entity's new state; throttled
 * subscriptions claim their window with a row update; then one job per (subscription, change).
 */
import { enqueue, type Queryable } from '../../platform/index.ts';
import type { EntityChange } from '../entities/changes.ts';
import type { StoredEntity } from '../entities/model.ts';
import { compileGeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { SqlParams } from '../query/sql-params.ts';
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
  id: string;
  q: string | null;
  geo_q: GeoQText | null;
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

/** The change hook: enqueues one notification job per matching subscription. */
export async function notifySubscribers(tx: Queryable, change: EntityChange): Promise<void> {
  const entity = change.after ?? change.before;
  if (!entity) {
    return;
  }
  const classes = classify(change);
  const candidates = await findCandidates(tx, change.tenant, entity, classes);
  if (candidates.length === 0) {
    return;
  }
  const matched = await evaluateConditions(tx, change.tenant, entity, candidates);
  const notified = await claimThrottled(tx, matched);
  if (notified.length === 0) {
    return;
  }
  const { rows } = await tx.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
  for (const sub of notified) {
    const payload: NotifyPayload = {
      subscriptionId: sub.id,
      entity,
      ...(sub.show_changes && change.after && change.before ? { before: change.before } : {}),
      deleted: change.kind === 'delete',
      at: change.at,
    };
    await enqueue(
      tx,
      NOTIFY_QUEUE,
      { ...payload },
      {
        tenantId: change.tenant,
        // One job per (subscription, change), whatever calls this twice: a change is its entity, time and transaction.
        idempotencyKey: `${sub.id}|${entity.id}|${change.kind}|${change.at}|${rows[0]?.xid}`,
        maxAttempts: NOTIFY_MAX_ATTEMPTS,
      },
    );
  }
}

async function findCandidates(
  tx: Queryable,
  tenant: string,
  entity: StoredEntity,
  classes: Partial<Record<Trigger, string[]>>,
): Promise<Candidate[]> {
  const { rows } = await tx.query<Candidate>(
    `select s.id, s.q, s.geo_q, s.expansions, s.throttling,
            coalesce((s.body->'$notification'->>'showChanges')::boolean, false) as show_changes
       from broker.subscriptions s
      where s.tenant_id = $1 and s.is_active and s.time_interval is null
        and (s.expires_at is null or s.expires_at > now())
        and s.triggers && $2::text[]
        and (s.entity_types is null or s.entity_types && $3::text[])
        and (s.entities is null or exists (
              select 1 from jsonb_to_recordset(s.entities) sel(types text[], id text, "idPattern" text)
               where sel.types && $3::text[] and (sel.id is null or sel.id = $4)
                 and (sel."idPattern" is null or $4 ~ sel."idPattern")))
        and exists (
              select 1 from unnest(s.triggers) t
               where $5::jsonb ? t and (s.watched_attributes is null
                 or s.watched_attributes && array(select jsonb_array_elements_text($5::jsonb -> t))))`,
    [tenant, Object.keys(classes), entity.types, entity.id, JSON.stringify(classes)],
  );
  return rows;
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

/**
 * Evaluates every candidate's q and geoQ in one statement over the entity's state (§5.11: the new
 * state; on deletion the last one). The row is given as values, so a deleted entity can be tested
 * too; its geometries are gone with it, so a deletion never matches a geoQ.
 */
async function evaluateConditions(
  tx: Queryable,
  tenant: string,
  entity: StoredEntity,
  candidates: Candidate[],
): Promise<Candidate[]> {
  const conditional = candidates.filter((c) => c.q || c.geo_q);
  if (conditional.length === 0) {
    return candidates;
  }
  const params = new SqlParams();
  const row = [tenant, entity.id, entity.types, JSON.stringify(entity.attrs)].map((v) => params.add(v));
  const tests = conditional.map((c, index) => {
    const expand = (term: string) => c.expansions[term] ?? term;
    const where: string[] = [];
    if (c.q) where.push(compileQ(cachedQ(c.q), { params, expand }));
    const geo = c.geo_q ? parseGeoQuery(c.geo_q) : undefined;
    if (geo) where.push(compileGeoQuery(geo, { params, expand }));
    return `case when ${where.join(' and ')} then ${index} end`;
  });
  const { rows } = await tx.query<{ hits: number[] }>(
    `select array_remove(array[${tests.join(', ')}], null) as hits
       from (select ${row[0]}::text as tenant_id, ${row[1]}::text as id, ${row[2]}::text[] as types,
                    ${row[3]}::jsonb as attrs) e`,
    params.values,
  );
  const hits = new Set((rows[0]?.hits ?? []).map((index) => conditional[index]));
  return candidates.filter((c) => !(c.q || c.geo_q) || hits.has(c));
}

/**
 * §5.8.6: no notification within `throttling` seconds of the last one; a change inside the window is
 * not notified (dropped, not delayed). The row update serialises concurrent writers: the second one
 * re-reads the claimed time after the first commits and finds the window closed.
 */
async function claimThrottled(tx: Queryable, matched: Candidate[]): Promise<Candidate[]> {
  const throttled = matched.filter((c) => c.throttling);
  if (throttled.length === 0) {
    return matched;
  }
  const { rows } = await tx.query<{ id: string }>(
    `update broker.subscriptions set last_queued_at = clock_timestamp()
      where id = any($1::text[])
        and (last_queued_at is null
             or last_queued_at <= clock_timestamp() - make_interval(secs => throttling))
      returning id`,
    [throttled.map((c) => c.id)],
  );
  const claimed = new Set(rows.map((r) => r.id));
  return matched.filter((c) => !c.throttling || claimed.has(c.id));
}
