/** Erasure (消去) of what delivery holds about a resident: their inbox items and their devices. */
import type { Db, Queryable } from '../../platform/index.ts';

/** Deletes the resident's inbox items in the transaction's municipality (their push records go with them). */
export async function eraseNotifications(tx: Queryable, accountId: string): Promise<number> {
  const { rowCount } = await tx.query('delete from delivery.notifications where account_id = $1', [
    accountId,
  ]);
  return rowCount ?? 0;
}

/** Deletes the resident's devices and inbox index, which belong to the account, not to a municipality. */
export async function forgetDevices(db: Db, accountId: string): Promise<void> {
  await db.query('delete from delivery.devices where account_id = $1', [accountId]);
  await db.query('delete from delivery.inboxes where account_id = $1', [accountId]);
}
