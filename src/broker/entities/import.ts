/**
 * Loads entities given in the NGSI-LD normalized or concise form straight into a tenant's store, for
 * importers (open data, demo) that run inside Machi: each entity is checked like a request body, and
 * created, or replaced when it exists, so an import can be run again. They are written as one batch
 * (batch-write.ts), in one transaction.
 */
import type { Db } from '../../platform/index.ts';
import type { ContextRef, ContextResolver } from '../context/json-ld.ts';
import { type BatchItem, writeBatch } from './batch-write.ts';
import { parseEntity } from './parse-entity.ts';
import { creation, stampInstances } from './store.ts';

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
  const items = bodies.map((body): BatchItem => {
    const entity = parseEntity(body, ctx);
    return {
      id: entity.id,
      decide(current, now) {
        if (!current) return { outcome: 'created', change: creation(tenant, entity, now) };
        stampInstances(entity.attrs, now, current.attrs);
        const after = { ...entity, modifiedAt: now };
        const attributes = Object.keys(entity.attrs);
        return {
          outcome: 'updated',
          change: { tenant, kind: 'replace', before: current, after, attributes, at: now },
        };
      },
    };
  });
  const results = await writeBatch(db, { tenant, items, readsState: true });
  const failed = results.find((r) => 'error' in r);
  if (failed && 'error' in failed) {
    throw failed.error;
  }
  return {
    created: results.filter((r) => 'outcome' in r && r.outcome === 'created').length,
    replaced: results.filter((r) => 'outcome' in r && r.outcome === 'updated').length,
  };
}
