/**
 * SQL for the residents' devices. Devices are account-owned and deployment-wide (see the migration),
 * so these run as the owner role, and every statement names the account: one resident's call can
 * never reach another's device. The `auth` secret is sealed here and opened only to push.
 */
import type { Queryable, SecretBox } from '../../platform/index.ts';
import type { PushStatus } from '../types.ts';
import type { Subscription } from './subscription.ts';

const AUTH_PURPOSE = 'delivery.push-auth';
/** More would make one notification a flood of pushes; a resident has a few browsers and phones. */
export const MAX_DEVICES = 20;

export interface Device {
  id: string;
  accountId: string;
  label: string | null;
  endpoint: string;
  createdAt: Date;
  lastStatus: PushStatus | null;
  lastStatusAt: Date | null;
  lastReason: string | null;
}

/** A device with what a push to it needs. */
export interface PushTarget extends Device {
  p256dh: string;
  auth: string;
}

interface DeviceRow {
  id: string;
  account_id: string;
  label: string | null;
  endpoint: string;
  created_at: Date;
  last_status: PushStatus | null;
  last_status_at: Date | null;
  last_reason: string | null;
  p256dh: string;
  auth_sealed: string;
}

const COLUMNS = `id, account_id, label, endpoint, created_at, last_status, last_status_at, last_reason,
  p256dh, auth_sealed`;

const device = (r: DeviceRow): Device => ({
  id: r.id,
  accountId: r.account_id,
  label: r.label,
  endpoint: r.endpoint,
  createdAt: r.created_at,
  lastStatus: r.last_status,
  lastStatusAt: r.last_status_at,
  lastReason: r.last_reason,
});

export async function listDevices(db: Queryable, accountId: string): Promise<Device[]> {
  const { rows } = await db.query<DeviceRow>(
    `select ${COLUMNS} from delivery.devices where account_id = $1 order by created_at, id`,
    [accountId],
  );
  return rows.map(device);
}

/** The account's devices with their keys opened, to push to. */
export async function pushTargets(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  deviceId?: string,
): Promise<PushTarget[]> {
  const { rows } = await db.query<DeviceRow>(
    `select ${COLUMNS} from delivery.devices
      where account_id = $1 and ($2::uuid is null or id = $2) order by created_at, id`,
    [accountId, deviceId ?? null],
  );
  return rows.map((r) => ({
    ...device(r),
    p256dh: r.p256dh,
    auth: box.openText(r.auth_sealed, AUTH_PURPOSE),
  }));
}

export async function findDevice(db: Queryable, accountId: string, id: string): Promise<Device | undefined> {
  const { rows } = await db.query<DeviceRow>(
    `select ${COLUMNS} from delivery.devices where account_id = $1 and id = $2`,
    [accountId, id],
  );
  return rows[0] && device(rows[0]);
}

/**
 * Keeps the subscription as the account's device: a new row, or the account's row for the same
 * endpoint with fresh keys and label. The endpoint is taken from any other account first.
 * @returns the device, and whether it is new; undefined when the account has MAX_DEVICES already
 */
export async function saveDevice(
  tx: Queryable,
  box: SecretBox,
  accountId: string,
  sub: Subscription,
): Promise<{ device: Device; created: boolean } | undefined> {
  await tx.query('delete from delivery.devices where endpoint = $1 and account_id <> $2', [
    sub.endpoint,
    accountId,
  ]);
  // Serialises registrations of one account, so two at once cannot both pass the count.
  await tx.query('select 1 from identity.accounts where id = $1 for update', [accountId]);
  const { rows } = await tx.query<DeviceRow & { created: boolean }>(
    `insert into delivery.devices (account_id, endpoint, p256dh, auth_sealed, label)
     select $1, $2, $3, $4, $5
      where (select count(*) from delivery.devices where account_id = $1 and endpoint <> $2) < $6
     on conflict (account_id, endpoint) do update
        set p256dh = excluded.p256dh, auth_sealed = excluded.auth_sealed,
            label = coalesce(excluded.label, delivery.devices.label), updated_at = now()
     returning ${COLUMNS}, (xmax = 0) as created`,
    [accountId, sub.endpoint, sub.p256dh, box.seal(sub.auth, AUTH_PURPOSE), sub.label ?? null, MAX_DEVICES],
  );
  const row = rows[0];
  return row && { device: device(row), created: row.created };
}

export async function deleteDevice(db: Queryable, accountId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from delivery.devices where account_id = $1 and id = $2', [
    accountId,
    id,
  ]);
  return rowCount > 0;
}

/** Keeps the outcome of the last push on the device, for the resident's list. */
export async function recordDeviceStatus(
  db: Queryable,
  target: Pick<Device, 'accountId' | 'id'>,
  status: PushStatus,
  reason: string | undefined,
): Promise<void> {
  await db.query(
    `update delivery.devices set last_status = $3, last_status_at = now(), last_reason = $4
      where account_id = $1 and id = $2`,
    [target.accountId, target.id, status, reason ?? null],
  );
}
