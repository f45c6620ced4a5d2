/**
 * SQL for subscriptions. Every function takes a transaction of `db.withTenant`, so row-level
 * security keeps it to one tenant; `tenant` is also written explicitly (the policy checks it).
 */
import type { Queryable } from '../../platform/index.ts';
import type { ContextRef } from '../context/json-ld.ts';
import { AlreadyExists, BadRequestData } from '../errors.ts';
import type { GeoQText, NotificationParams, Subscription, SubscriptionSpec, Trigger } from './model.ts';

interface SubscriptionRow {
  id: string;
  body: Record<string, unknown>;
  context: ContextRef[];
  entities: Subscription['entities'] | null;
  watched_attributes: string[] | null;
  triggers: Trigger[];
  q: string | null;
  geo_q: GeoQText | null;
  expansions: Record<string, string>;
  time_interval: number | null;
  throttling: number | null;
  expires_at: Date | null;
  is_active: boolean;
  owner: string | null;
  epoch: number;
  notification: NotificationParams;
  lang: string | null;
  jsonld_context: string | null;
  times_sent: number;
  times_failed: number;
  last_notification: Date | null;
  last_success: Date | null;
  last_failure: Date | null;
  last_error_reason: string | null;
  created_at: Date;
  modified_at: Date;
}

/** The parsed members that are not columns of their own live in `body` and `notification`. */
const COLUMNS = `s.id, s.body, s.context, s.entities, s.watched_attributes, s.triggers, s.q, s.geo_q,
  s.expansions, s.time_interval, s.throttling, s.expires_at, s.is_active, s.owner, s.epoch,
  s.body->'$notification' as notification, s.body->>'$lang' as lang, s.body->>'$jsonldContext' as jsonld_context,
  s.times_sent, s.times_failed, s.last_notification, s.last_success, s.last_failure, s.last_error_reason,
  s.created_at, s.modified_at`;

const iso = (d: Date | null) => d?.toISOString();

export function toSubscription(row: SubscriptionRow): Subscription {
  const { $notification: _n, $lang: _l, $jsonldContext: _j, ...body } = row.body;
  return {
    id: row.id,
    body,
    context: row.context,
    entities: row.entities ?? undefined,
    watchedAttributes: row.watched_attributes ?? undefined,
    triggers: row.triggers,
    q: row.q ?? undefined,
    scopeQ: typeof body.scopeQ === 'string' ? body.scopeQ : undefined,
    geoQ: row.geo_q ?? undefined,
    expansions: row.expansions,
    timeInterval: row.time_interval ?? undefined,
    throttling: row.throttling ?? undefined,
    expiresAt: iso(row.expires_at),
    isActive: row.is_active,
    ...(row.owner === null ? {} : { owner: row.owner }),
    epoch: row.epoch,
    notification: row.notification,
    lang: row.lang ?? undefined,
    jsonldContext: row.jsonld_context ?? undefined,
    timesSent: row.times_sent,
    timesFailed: row.times_failed,
    lastNotification: iso(row.last_notification),
    lastSuccess: iso(row.last_success),
    lastFailure: iso(row.last_failure),
    lastErrorReason: row.last_error_reason ?? undefined,
    createdAt: row.created_at.toISOString(),
    modifiedAt: row.modified_at.toISOString(),
  };
}

/** The stored body: what the subscriber wrote, plus the parsed notification parameters under `$` keys. */
function storedBody(spec: SubscriptionSpec): string {
  return JSON.stringify({
    ...spec.body,
    $notification: spec.notification,
    $lang: spec.lang,
    $jsonldContext: spec.jsonldContext,
  });
}

function specValues(spec: SubscriptionSpec): unknown[] {
  const types = spec.entities ? [...new Set(spec.entities.flatMap((e) => e.types))] : null;
  return [
    storedBody(spec),
    JSON.stringify(spec.context),
    spec.entities ? JSON.stringify(spec.entities) : null,
    types,
    spec.watchedAttributes ?? null,
    spec.triggers,
    spec.q ?? null,
    spec.geoQ ? JSON.stringify(spec.geoQ) : null,
    JSON.stringify(spec.expansions),
    spec.timeInterval ?? null,
    spec.throttling ?? null,
    spec.expiresAt ?? null,
    spec.isActive,
  ];
}

/**
 * @param owner the subject of the creator's token (undefined: anonymous); notifications are sent only
 *   of what the owner may read
 * @throws AlreadyExists when the tenant has a subscription with this id
 */
export async function insertSubscription(
  tx: Queryable,
  tenant: string,
  spec: SubscriptionSpec,
  owner?: string,
): Promise<Subscription> {
  const { rows } = await tx.query<SubscriptionRow>(
    `insert into broker.subscriptions as s (tenant_id, id, body, context, entities, entity_types, watched_attributes,
       triggers, q, geo_q, expansions, time_interval, throttling, expires_at, is_active, owner)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     on conflict (tenant_id, id) do nothing
     returning ${COLUMNS}`,
    [tenant, spec.id, ...specValues(spec), owner ?? null],
  );
  if (!rows[0]) {
    throw new AlreadyExists(`a subscription with id ${spec.id} exists already`);
  }
  return toSubscription(rows[0]);
}

/** Replaces the subscriber's members; `restart` bumps the epoch so a running periodic chain stops. */
export async function updateSubscription(
  tx: Queryable,
  spec: SubscriptionSpec,
  restart: boolean,
): Promise<Subscription> {
  const { rows } = await tx.query<SubscriptionRow>(
    `update broker.subscriptions s set body = $2, context = $3, entities = $4, entity_types = $5,
       watched_attributes = $6, triggers = $7, q = $8, geo_q = $9, expansions = $10, time_interval = $11,
       throttling = $12, expires_at = $13, is_active = $14, epoch = s.epoch + $15, modified_at = now()
     where s.id = $1 returning ${COLUMNS}`,
    [spec.id, ...specValues(spec), restart ? 1 : 0],
  );
  return toSubscription(rows[0] as SubscriptionRow);
}

export async function findSubscription(
  tx: Queryable,
  id: string,
  forUpdate = false,
): Promise<Subscription | undefined> {
  const { rows } = await tx.query<SubscriptionRow>(
    `select ${COLUMNS} from broker.subscriptions s where s.id = $1${forUpdate ? ' for update' : ''}`,
    [id],
  );
  return rows[0] ? toSubscription(rows[0]) : undefined;
}

export async function listSubscriptions(
  tx: Queryable,
  page: { limit: number; offset: number; count: boolean },
): Promise<{ subscriptions: Subscription[]; total?: number }> {
  const { rows } = await tx.query<SubscriptionRow>(
    `select ${COLUMNS} from broker.subscriptions s order by s.created_at, s.id limit $1 offset $2`,
    [page.limit, page.offset],
  );
  let total: number | undefined;
  if (page.count) {
    const counted = await tx.query<{ n: number }>('select count(*)::int as n from broker.subscriptions');
    total = counted.rows[0]?.n ?? 0;
  }
  return { subscriptions: rows.map(toSubscription), total };
}

export async function removeSubscription(tx: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await tx.query('delete from broker.subscriptions where id = $1', [id]);
  return rowCount > 0;
}

/**
 * PostgreSQL compiles a regular expression only when it runs, so the patterns of q and idPattern are
 * run once here: a pattern the change hook could not run would otherwise fail every entity write.
 */
export async function checkPatterns(
  tx: Queryable,
  patterns: { pattern: string; where: string }[],
): Promise<void> {
  for (const { pattern, where } of patterns) {
    try {
      await tx.query(`select '' ~ $1::text`, [pattern]);
    } catch (error) {
      throw new BadRequestData(`${where}: not a valid regular expression: ${(error as Error).message}`);
    }
  }
}

/** Records the outcome of one delivery attempt (§5.2.14 status members). */
export async function recordDelivery(
  tx: Queryable,
  id: string,
  outcome: { ok: true; at: string } | { ok: false; at: string; reason: string },
): Promise<void> {
  if (outcome.ok) {
    await tx.query(
      `update broker.subscriptions set times_sent = times_sent + 1, last_notification = $2, last_success = $2
        where id = $1`,
      [id, outcome.at],
    );
  } else {
    await tx.query(
      `update broker.subscriptions set times_failed = times_failed + 1, last_notification = $2,
              last_failure = $2, last_error_reason = $3
        where id = $1`,
      [id, outcome.at, outcome.reason.slice(0, 500)],
    );
  }
}
