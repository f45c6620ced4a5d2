/**
 * The one place every entity write reports what changed, inside the write's own transaction, so
 * what follows from a change (temporal history, subscription notifications) is committed with it
 * or not at all. Each consumer is called from here; none hooks itself in elsewhere.
 */
import type { Queryable } from '../../platform/index.ts';
import { notifySubscribers } from '../subscriptions/matching.ts';
import { recordHistory } from '../temporal/record-history.ts';
import type { StoredEntity } from './model.ts';

export type ChangeKind = 'create' | 'update' | 'replace' | 'delete';

export interface EntityChange {
  tenant: string;
  kind: ChangeKind;
  /** The entity before the change (undefined on create). */
  before?: StoredEntity;
  /** The entity after the change (undefined on delete). */
  after?: StoredEntity;
  /** Expanded names of the attributes the request touched (all of them on create, replace and delete). */
  attributes: string[];
  /** When the change happened (ISO 8601). */
  at: string;
}

/** Called by the store after each write, in the same transaction. */
export async function entityChanged(tx: Queryable, change: EntityChange): Promise<void> {
  // Consumers (temporal history, subscriptions) are called from here as they arrive.
  await recordHistory(tx, change);
  await notifySubscribers(tx, change);
}
