/**
 * A resident's own personal entities, for the resident: everything Machi holds about them in the
 * broker (個人情報保護法's disclosure, as a download), and its erasure (消去). Both run for the
 * resident themselves, through My Page, never for a service: a service reaches these entities only
 * through personal.ts under the resident's consent.
 */
import type { DataKeys, Db, Queryable } from '../platform/index.ts';
import type { ContextResolver } from './context/json-ld.ts';
import type { StoredEntity } from './entities/model.ts';
import { parseEntity } from './entities/parse-entity.ts';
import { renderEntity } from './entities/render-entity.ts';
import { insertEntity, lockEntities, removeEntity } from './entities/store.ts';
import { openAttributes, sealerFor } from './sealed.ts';
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

/** The resident's entities, sealed values opened: the resident sees all of their own data. */
async function owned(tx: Queryable, keys: DataKeys, tenant: string, owner: string): Promise<StoredEntity[]> {
  const entities = await lockEntities(tx, await ownedIds(tx, owner));
  return openAttributes(tx, keys, tenant, [...entities.values()]);
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
export function residentEntities(
  db: Db,
  keys: DataKeys,
  tenant: string,
  owner: string,
): Promise<ResidentEntity[]> {
  return db.withTenant(tenant, async (tx) => describe(await owned(tx, keys, tenant, owner)));
}

/**
 * Erases the resident's personal entities in the tenant, with their history, except the ids `keep`
 * answers (what a law requires), asked in the same transaction; returns the ids erased and the
 * entities kept. One transaction: all or none.
 */
export function eraseResidentEntities(
  db: Db,
  keys: DataKeys,
  tenant: string,
  owner: string,
  keep: (tx: Queryable, entities: readonly ResidentEntity[]) => Promise<ReadonlySet<string>>,
): Promise<{ erased: string[]; kept: ResidentEntity[] }> {
  return db.withTenant(tenant, async (tx) => {
    const entities = await describe(await owned(tx, keys, tenant, owner));
    const keeping = await keep(tx, entities);
    const erased: string[] = [];
    const kept: ResidentEntity[] = [];
    for (const entity of entities) {
      if (keeping.has(entity.id)) {
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
 * Loads a resident's personal entities (an importer moving a municipality's records in, the demo):
 * each is created as the resident's, its sensitive attributes sealed like a service's write, all in
 * one transaction.
 * @throws AlreadyExists for an id the tenant has already
 */
export async function importResidentEntities(
  db: Db,
  keys: DataKeys,
  contexts: ContextResolver,
  input: { tenant: string; owner: string; bodies: unknown[] },
): Promise<number> {
  const ctx = await contexts.resolve([]);
  const entities = input.bodies.map((body) => parseEntity(body, ctx));
  await db.withTenant(input.tenant, async (tx) => {
    for (const entity of entities) {
      const seal = await sealerFor(tx, keys, input.tenant, entity.types, Object.keys(entity.attrs));
      await insertEntity(tx, input.tenant, seal(entity));
      await tx.query('insert into broker.entity_owners (tenant_id, entity_id, owner) values ($1, $2, $3)', [
        input.tenant,
        entity.id,
        input.owner,
      ]);
    }
  });
  return entities.length;
}
