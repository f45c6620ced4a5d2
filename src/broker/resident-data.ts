/**
 * A resident's own personal entities, for the resident: everything Machi holds about them in the
 * broker (個人情報保護法's disclosure, as a download), and its erasure (消去). Both run for the
 * resident themselves, through My Page, never for a service: a service reaches these entities only
 * through personal.ts under the resident's consent.
 */
import { Conflict, type Db, type Queryable } from '../platform/index.ts';
import type { StoredEntity } from './entities/model.ts';
import { renderEntity } from './entities/render-entity.ts';
import { lockEntities, removeEntity } from './entities/store.ts';
import { removeHistory } from './temporal/history-store.ts';
import { coreContext } from './type-access.ts';

/** One of the resident's entities: its id, types (short names), when it was made, and the entity. */
export interface ResidentEntity {
  id: string;
  types: string[];
  createdAt: string;
  /** The entity in NGSI-LD normalized form, named with the core @context, system attributes included. */
  entity: Record<string, unknown>;
}

async function ownedIds(tx: Queryable, owner: string): Promise<string[]> {
  const { rows } = await tx.query<{ entity_id: string }>(
    `select entity_id from broker.entity_owners
      where tenant_id = current_setting('machi.tenant_id', true) and owner = $1 order by entity_id`,
    [owner],
  );
  return rows.map((r) => r.entity_id);
}

async function owned(tx: Queryable, owner: string): Promise<StoredEntity[]> {
  const entities = await lockEntities(tx, await ownedIds(tx, owner));
  return [...entities.values()];
}

async function describe(entities: StoredEntity[]): Promise<ResidentEntity[]> {
  const ctx = await coreContext();
  return entities.map((e) => ({
    id: e.id,
    types: e.types.map((t) => ctx.compact(t)),
    createdAt: e.createdAt ?? '',
    entity: renderEntity(e, ctx, { format: 'normalized', sysAttrs: true }) as Record<string, unknown>,
  }));
}

/** The resident's personal entities in the tenant. */
export function residentEntities(db: Db, tenant: string, owner: string): Promise<ResidentEntity[]> {
  return db.withTenant(tenant, async (tx) => describe(await owned(tx, owner)));
}

/**
 * Erases the resident's personal entities in the tenant, with their history, except those `keep`
 * names (a law requires them); returns the ids erased and those kept. One transaction: all or none.
 */
export function eraseResidentEntities(
  db: Db,
  tenant: string,
  owner: string,
  keep: (entity: ResidentEntity) => boolean,
): Promise<{ erased: string[]; kept: ResidentEntity[] }> {
  return db.withTenant(tenant, async (tx) => {
    const entities = await describe(await owned(tx, owner));
    const erased: string[] = [];
    const kept: ResidentEntity[] = [];
    for (const entity of entities) {
      if (keep(entity)) {
        kept.push(entity);
        continue;
      }
      await removeEntity(tx, tenant, entity.id);
      await removeHistory(tx, entity.id);
      erased.push(entity.id);
    }
    return { erased, kept };
  });
}

/**
 * Makes the resident the owner of entities already in the tenant's store (an importer loading a
 * resident's records). An entity owned by another resident stays theirs, and the call fails.
 * @throws Conflict for an entity that belongs to another resident
 */
export function ownEntities(db: Db, tenant: string, owner: string, ids: readonly string[]): Promise<void> {
  return db.withTenant(tenant, async (tx) => {
    await tx.query(
      `insert into broker.entity_owners (tenant_id, entity_id, owner)
       select $1, id, $2 from unnest($3::text[]) as id
       on conflict (tenant_id, entity_id) do nothing`,
      [tenant, owner, ids],
    );
    const { rows } = await tx.query<{ entity_id: string }>(
      'select entity_id from broker.entity_owners where entity_id = any($1::text[]) and owner <> $2',
      [ids, owner],
    );
    if (rows.length > 0) {
      throw new Conflict(`${rows.map((r) => r.entity_id).join(', ')} belongs to another resident`);
    }
  });
}
