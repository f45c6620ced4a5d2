/**
 * Loads entities given in the NGSI-LD normalized or concise form straight into a tenant's store, for
 * importers (open data, demo) that run inside Machi: each entity is checked like a request body, and
 * created, or replaced when it exists, so an import can be run again.
 */
import type { Db } from '../../platform/index.ts';
import type { ContextRef, ContextResolver } from '../context/json-ld.ts';
import { parseEntity } from './parse-entity.ts';
import { findEntity, insertEntity, saveEntity, stampInstances } from './store.ts';

export interface ImportResult {
  created: number;
  replaced: number;
}

export async function upsertEntities(
  db: Db,
  contexts: ContextResolver,
  tenant: string,
  bodies: unknown[],
  context: ContextRef[] = [],
): Promise<ImportResult> {
  const ctx = await contexts.resolve(context);
  const entities = bodies.map((body) => parseEntity(body, ctx));
  return db.withTenant(tenant, async (tx) => {
    const result: ImportResult = { created: 0, replaced: 0 };
    for (const entity of entities) {
      const before = await findEntity(tx, entity.id, true);
      if (!before) {
        await insertEntity(tx, tenant, entity);
        result.created++;
        continue;
      }
      const at = new Date().toISOString();
      stampInstances(entity.attrs, at, before.attrs);
      await saveEntity(tx, tenant, before, entity, {
        kind: 'replace',
        touched: Object.keys(entity.attrs),
        at,
      });
      result.replaced++;
    }
    return result;
  });
}
