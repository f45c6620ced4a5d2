/**
 * Entities read by id, kept in this process's memory (least recently used out first), so that a
 * GET /entities/{id} of an entity read before costs no database round trip.
 *
 * A copy must never outlive a change, whichever process makes it:
 * - a change in this process drops the copy once its transaction has committed (`dropCommitted`,
 *   called from entities/changes.ts), before the writer answers, so a client reads its own writes;
 * - a change in any process is announced by the database (triggers of migration 007 NOTIFY on
 *   commit) and every process drops its copy when the notification arrives;
 * - a read that was under way when its entity was dropped does not keep what it read, since it may
 *   have read the state before the change;
 * - while notifications may be missed (the listening connection is lost, or not yet listening),
 *   nothing is kept, and the cache is emptied when listening starts again.
 * Between a commit in another process and its notification (well under a millisecond on one host)
 * that process may still answer the previous state: reads by id are as fresh as a query issued at
 * the same moment on a replica would be, never older than that.
 */
import type { Db } from '../../platform/index.ts';
import type { StoredEntity } from './model.ts';

export const ENTITY_CHANNEL = 'machi_broker_entities';

/** Every cache open in this process: a committed change drops the entity from each of them. */
const open = new Set<EntityCache>();

interface PendingRead {
  key: string;
  stale: boolean;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

const keyOf = (tenant: string, id: string) => `${tenant} ${id}`;

export class EntityCache {
  readonly #max: number;
  readonly #entries = new Map<string, StoredEntity>();
  readonly #reads = new Set<PendingRead>();
  #listening = false;
  #stop: (() => Promise<void>) | undefined;

  private constructor(max: number) {
    this.#max = max;
  }

  /** A cache of at most `max` entities that listens for changes in `db`; `max` 0 keeps nothing. */
  static async open(db: Db, max: number): Promise<EntityCache> {
    const cache = new EntityCache(max);
    if (max > 0) {
      cache.#stop = await db.listen(ENTITY_CHANNEL, {
        message: (payload) => cache.#announced(payload),
        listening: (on) => {
          cache.#listening = on;
          cache.#clear();
        },
      });
      open.add(cache);
    }
    return cache;
  }

  /** Drops the entity from every cache of this process; for a committed change. */
  static dropCommitted(tenant: string, id: string): void {
    for (const cache of open) cache.#drop(keyOf(tenant, id));
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entity from memory, or from `load` (which reads it in the tenant's transaction), kept for
   * the next read. Returns a frozen object: callers render it and never change it.
   */
  async read(
    tenant: string,
    id: string,
    load: () => Promise<StoredEntity | undefined>,
  ): Promise<StoredEntity | undefined> {
    const key = keyOf(tenant, id);
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    if (!this.#listening) {
      return load();
    }
    const pending: PendingRead = { key, stale: false };
    this.#reads.add(pending);
    try {
      const entity = await load();
      if (entity && !pending.stale && this.#listening) {
        this.#entries.set(key, deepFreeze(entity));
        if (this.#entries.size > this.#max) {
          const oldest = this.#entries.keys().next().value;
          if (oldest !== undefined) this.#entries.delete(oldest);
        }
      }
      return entity;
    } finally {
      this.#reads.delete(pending);
    }
  }

  async close(): Promise<void> {
    open.delete(this);
    this.#listening = false;
    this.#clear();
    await this.#stop?.();
  }

  #drop(key: string): void {
    this.#entries.delete(key);
    for (const read of this.#reads) {
      if (read.key === key) read.stale = true;
    }
  }

  #dropTenant(tenant: string): void {
    const prefix = `${tenant} `;
    for (const key of this.#entries.keys()) {
      if (key.startsWith(prefix)) this.#entries.delete(key);
    }
    for (const read of this.#reads) {
      if (read.key.startsWith(prefix)) read.stale = true;
    }
  }

  #clear(): void {
    this.#entries.clear();
    for (const read of this.#reads) read.stale = true;
  }

  /** A notification of migration 007: "<tenant> <id>" or "<tenant> *" per line. */
  #announced(payload: string): void {
    for (const line of payload.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) {
        // Not a payload this code sends: drop everything rather than guess.
        this.#clear();
        return;
      }
      const tenant = line.slice(0, space);
      const id = line.slice(space + 1);
      if (id === '*') this.#dropTenant(tenant);
      else this.#drop(keyOf(tenant, id));
    }
  }
}
