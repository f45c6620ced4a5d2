/**
 * SQL for inbox items and their per-device push statuses. Every function takes a transaction
 * confined to the item's tenant (`db.withTenant`), where row-level security applies; which tenants
 * have written to an account is the one deployment-wide lookup (`inboxTenants`), run as the owner.
 */
import type { Db, Queryable } from '../../platform/index.ts';
import type { PushStatus, Urgency } from '../types.ts';

export interface NewNotification {
  accountId: string;
  kind: string;
  title: string;
  body: string;
  url: string | undefined;
  idempotencyKey: string;
}

export interface Notification {
  tenant: string;
  id: string;
  seq: number;
  accountId: string;
  kind: string;
  title: string;
  body: string;
  url: string | null;
  createdAt: Date;
  readAt: Date | null;
}

interface NotificationRow {
  tenant_id: string;
  id: string;
  seq: number;
  account_id: string;
  kind: string;
  title: string;
  body: string;
  url: string | null;
  created_at: Date;
  read_at: Date | null;
}

const COLUMNS = 'tenant_id, id, seq, account_id, kind, title, body, url, created_at, read_at';

const notification = (r: NotificationRow): Notification => ({
  tenant: r.tenant_id,
  id: r.id,
  seq: r.seq,
  accountId: r.account_id,
  kind: r.kind,
  title: r.title,
  body: r.body,
  url: r.url,
  createdAt: r.created_at,
  readAt: r.read_at,
});

/** Adds the item unless the account has one with this idempotency key; returns the id either way. */
export async function insertNotification(
  tx: Queryable,
  tenant: string,
  n: NewNotification,
): Promise<{ id: string; created: boolean }> {
  const inserted = await tx.query<{ id: string }>(
    `insert into delivery.notifications (tenant_id, account_id, kind, title, body, url, idempotency_key)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (tenant_id, account_id, idempotency_key) do nothing
     returning id`,
    [tenant, n.accountId, n.kind, n.title, n.body, n.url ?? null, n.idempotencyKey],
  );
  if (inserted.rows[0]) {
    await tx.query(
      `insert into delivery.inboxes (account_id, tenant_id) values ($1, $2) on conflict do nothing`,
      [n.accountId, tenant],
    );
    return { id: inserted.rows[0].id, created: true };
  }
  const { rows } = await tx.query<{ id: string }>(
    `select id from delivery.notifications
      where tenant_id = $1 and account_id = $2 and idempotency_key = $3`,
    [tenant, n.accountId, n.idempotencyKey],
  );
  if (!rows[0]) throw new Error('a notification is neither new nor visible under its idempotency key');
  return { id: rows[0].id, created: false };
}

/** The tenants that have written to the account's inbox. */
export async function inboxTenants(db: Db, accountId: string): Promise<string[]> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'select tenant_id from delivery.inboxes where account_id = $1 order by tenant_id',
    [accountId],
  );
  return rows.map((r) => r.tenant_id);
}

export async function findNotification(
  tx: Queryable,
  tenant: string,
  id: string,
): Promise<Notification | undefined> {
  const { rows } = await tx.query<NotificationRow>(
    `select ${COLUMNS} from delivery.notifications where tenant_id = $1 and id = $2`,
    [tenant, id],
  );
  return rows[0] && notification(rows[0]);
}

/** The account's newest items in the tenant, older than the cursor `before` (a seq) when given. */
export async function listNotifications(
  tx: Queryable,
  tenant: string,
  accountId: string,
  page: { limit: number; before: number | undefined },
): Promise<Notification[]> {
  const { rows } = await tx.query<NotificationRow>(
    `select ${COLUMNS} from delivery.notifications
      where tenant_id = $1 and account_id = $2 and ($3::bigint is null or seq < $3)
      order by seq desc limit $4`,
    [tenant, accountId, page.before ?? null, page.limit],
  );
  return rows.map(notification);
}

export async function countUnread(tx: Queryable, tenant: string, accountId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `select count(*)::int as n from delivery.notifications
      where tenant_id = $1 and account_id = $2 and read_at is null`,
    [tenant, accountId],
  );
  return rows[0]?.n ?? 0;
}

/** Marks the account's items read: one (by id), or all. Returns how many were found (read or not). */
export async function markRead(
  tx: Queryable,
  tenant: string,
  accountId: string,
  id: string | undefined,
): Promise<number> {
  const { rowCount } = await tx.query(
    `update delivery.notifications set read_at = coalesce(read_at, now())
      where tenant_id = $1 and account_id = $2 and ($3::uuid is null or id = $3)
        and ($3::uuid is not null or read_at is null)`,
    [tenant, accountId, id ?? null],
  );
  return rowCount;
}

export interface DeliveryRecord {
  deviceId: string;
  status: PushStatus;
  httpStatus: number | null;
  reason: string | null;
  attempts: number;
}

export async function listDeliveries(
  tx: Queryable,
  tenant: string,
  notificationId: string,
): Promise<DeliveryRecord[]> {
  const { rows } = await tx.query<{
    device_id: string;
    status: PushStatus;
    http_status: number | null;
    reason: string | null;
    attempts: number;
  }>(
    `select device_id, status, http_status, reason, attempts from delivery.push_deliveries
      where tenant_id = $1 and notification_id = $2 order by device_id`,
    [tenant, notificationId],
  );
  return rows.map((r) => ({
    deviceId: r.device_id,
    status: r.status,
    httpStatus: r.http_status,
    reason: r.reason,
    attempts: r.attempts,
  }));
}

export async function recordDelivery(
  tx: Queryable,
  tenant: string,
  notificationId: string,
  outcome: { deviceId: string; status: PushStatus; httpStatus?: number; reason?: string },
): Promise<void> {
  await tx.query(
    `insert into delivery.push_deliveries (tenant_id, notification_id, device_id, status, http_status, reason)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (tenant_id, notification_id, device_id) do update
        set status = excluded.status, http_status = excluded.http_status, reason = excluded.reason,
            attempts = delivery.push_deliveries.attempts + 1, updated_at = now()`,
    [
      tenant,
      notificationId,
      outcome.deviceId,
      outcome.status,
      outcome.httpStatus ?? null,
      outcome.reason ?? null,
    ],
  );
}

/** What a job needs to push: the payload's fields and how urgent it is. */
export interface PushJobPayload {
  notification: string;
  urgency: Urgency;
  ttl: number;
}
