/**
 * The one place every entity write reports what changed, inside the write's own transaction, so
 * what follows from a change (temporal history, subscription notifications) is committed with it
 * or not at all. Each consumer is called from here; none hooks itself in elsewhere.
 *
 * Changes come in groups (one entity, or the entities of a batch, each at most once) together with
 * the statement that writes them (write-statement.ts): the history is written by that same
 * statement, and the subscriptions a change may notify are read by it, so a write that notifies
 * nobody costs that one statement.
 */
import { afterCommit, type Queryable } from '../../platform/index.ts';
import { type CandidateRead, notifySubscribers, readCandidates } from '../subscriptions/matching.ts';
import { recordHistory } from '../temporal/record-history.ts';
import { EntityCache } from './cache.ts';
import type { StoredEntity } from './model.ts';
import type { WriteStatement } from './write-statement.ts';

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

/** The entity a change is about: its new state, or on deletion its last one. */
export function changedEntity(change: EntityChange): StoredEntity {
  return (change.after ?? change.before) as StoredEntity;
}

/**
 * Called by the store with a group of changes of one tenant and the statement that writes them:
 * each consumer adds its part, the statement runs, and the changes it wrote are followed up.
 * Returns the ids the statement wrote; a change whose entity is not among them had no effect.
 */
export async function entitiesChanged(
  tx: Queryable,
  changes: EntityChange[],
  write: WriteStatement,
): Promise<Set<string>> {
  recordHistory(write, changes);
  readCandidates(write, changes);
  const result = await write.run<CandidateRead>(tx);
  const written = new Set(result.written);
  const reported = changes.filter((c) => written.has(changedEntity(c).id));
  for (const change of reported) {
    if (change.kind !== 'create') {
      const id = changedEntity(change).id;
      // Other processes learn of it from the database (migration 007); this one before it answers.
      afterCommit(tx, () => EntityCache.dropCommitted(change.tenant, id));
    }
  }
  await notifySubscribers(tx, reported, result);
  return written;
}
