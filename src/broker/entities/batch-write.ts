/**
 * The writes of a batch (entityOperations create, upsert, update, merge, delete; §5.6.7–5.6.10,
 * §5.6.20), set-based: the batch's stored entities are read in one query under their row locks, each
 * entity's outcome is decided here against them (an entity that cannot be written is an error of
 * its own and leaves the others be), and the changes are written by one statement (entity-writes.ts).
 * An id the batch names again starts a new group, written after the previous one, so each change
 * meets the entity as the earlier ones left it, exactly as if the entities were written one by one.
 *
 * When the set-based write fails (a database error, or a creation that lost a race with another
 * writer of the same id), the batch is written again from the start, in a new transaction, one entity
 * at a time under savepoints: the answer must not depend on which way it went.
 */
import { AppError, type Db, type Queryable } from '../../platform/index.ts';
import { AlreadyExists } from '../errors.ts';
import type { EntityChange } from './changes.ts';
import { writeChanges } from './entity-writes.ts';
import type { StoredEntity } from './model.ts';
import { findEntity, lockEntities, withSavepoint } from './store.ts';

export type Outcome = 'created' | 'updated';

/** What one entity of a batch does, given the entity as stored (undefined when there is none). */
export interface Decision {
  outcome: Outcome;
  /** None when the request changes nothing. */
  change?: EntityChange | undefined;
}

/** One entity of a batch, its request already read. */
export interface BatchItem {
  id: string;
  /**
   * Its outcome against the entity as the batch has left it so far.
   * @throws AppError when this entity cannot be written (the others are still written)
   */
  decide(current: StoredEntity | undefined, now: string): Decision;
}

export type ItemResult = { outcome: Outcome } | { error: AppError };

export interface BatchWrite {
  tenant: string;
  /** Each entity of the batch, or the error that already stopped it. */
  items: (BatchItem | AppError)[];
  /**
   * Whether decisions need the stored entities. A batch create does not: the insert itself refuses
   * an id that exists, and nothing else is written for that entity.
   */
  readsState: boolean;
}

/** A creation that was not written although the entity did not exist when the batch read it. */
class LostRace extends Error {}

const alreadyExists = (id: string) => new AlreadyExists(`an entity with id ${id} exists already`);

/**
 * Writes a batch in the tenant's transaction and returns each entity's result, in order.
 * @param onFallback told why the batch was written again one entity at a time
 */
export async function writeBatch(
  db: Db,
  batch: BatchWrite,
  onFallback: (error: unknown) => void = () => {},
): Promise<ItemResult[]> {
  if (batch.items.every((item) => item instanceof AppError)) {
    return batch.items.map((error) => ({ error: error as AppError }));
  }
  try {
    return await db.withTenant(batch.tenant, (tx) => writeSetBased(tx, batch));
  } catch (error) {
    if (error instanceof AppError) throw error;
    onFallback(error);
    return db.withTenant(batch.tenant, (tx) => writeOneByOne(tx, batch));
  }
}

interface Group {
  ids: Set<string>;
  changes: EntityChange[];
  /** The item of each change. */
  items: number[];
}

const newGroup = (): Group => ({ ids: new Set(), changes: [], items: [] });

/** A time after `previous`: a group's changes are later than the previous group's. */
function laterThan(previous: string): string {
  return new Date(Math.max(Date.now(), Date.parse(previous) + 1)).toISOString();
}

/** Each item's decision, grouped so that a group changes each entity once. */
function decideAll(
  batch: BatchWrite,
  state: Map<string, StoredEntity | undefined>,
): { results: ItemResult[]; groups: Group[] } {
  const results: ItemResult[] = [];
  const groups = [newGroup()];
  let now = new Date().toISOString();
  for (const [index, item] of batch.items.entries()) {
    if (item instanceof AppError) {
      results[index] = { error: item };
      continue;
    }
    let group = groups.at(-1) as Group;
    if (group.ids.has(item.id)) {
      group = newGroup();
      groups.push(group);
      now = laterThan(now);
    }
    try {
      const { outcome, change } = item.decide(state.get(item.id), now);
      results[index] = { outcome };
      if (change) {
        group.ids.add(item.id);
        group.changes.push(change);
        group.items.push(index);
        state.set(item.id, change.after);
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results[index] = { error };
    }
  }
  return { results, groups };
}

const idsOf = (batch: BatchWrite) => [
  ...new Set(batch.items.flatMap((item) => (item instanceof AppError ? [] : [item.id]))),
];

async function writeSetBased(tx: Queryable, batch: BatchWrite): Promise<ItemResult[]> {
  const state: Map<string, StoredEntity | undefined> = batch.readsState
    ? await lockEntities(tx, idsOf(batch))
    : new Map();
  const { results, groups } = decideAll(batch, state);
  for (const group of groups) {
    if (group.changes.length === 0) continue;
    const written = await writeChanges(tx, group.changes);
    for (const [k, change] of group.changes.entries()) {
      const id = (change.after ?? change.before)?.id as string;
      if (written.has(id)) continue;
      // Only a creation can go unwritten: its id exists, though the batch did not find it.
      if (batch.readsState) throw new LostRace(`entity ${id} was created by another writer meanwhile`);
      results[group.items[k] as number] = { error: alreadyExists(id) };
    }
  }
  return results;
}

/**
 * The same batch one entity at a time, each under a savepoint. The stored entities are locked first
 * all together, in id order, as the set-based write does, so that batches that fell back (after a
 * lost race, typically several at once) do not deadlock on one another's entities.
 */
async function writeOneByOne(tx: Queryable, batch: BatchWrite): Promise<ItemResult[]> {
  if (batch.readsState) await lockEntities(tx, idsOf(batch));
  const results: ItemResult[] = [];
  for (const [index, item] of batch.items.entries()) {
    if (item instanceof AppError) {
      results[index] = { error: item };
      continue;
    }
    try {
      results[index] = { outcome: await withSavepoint(tx, () => writeOne(tx, batch, item)) };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results[index] = { error };
    }
  }
  return results;
}

async function writeOne(tx: Queryable, batch: BatchWrite, item: BatchItem): Promise<Outcome> {
  const current = batch.readsState ? await findEntity(tx, item.id, true) : undefined;
  const { outcome, change } = item.decide(current, new Date().toISOString());
  if (change && !(await writeChanges(tx, [change])).has(item.id)) {
    throw alreadyExists(item.id);
  }
  return outcome;
}
