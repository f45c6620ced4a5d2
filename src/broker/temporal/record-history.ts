/**
 * Turns entity changes into history (the temporal store's writer). Called by entities/changes.ts with
 * the statement that writes the entities, so an entity and its history are written by one statement
 * and committed together or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../platform/index.ts';
import type { EntityChange } from '../entities/changes.ts';
import type { Instance, StoredEntity } from '../entities/model.ts';
import type { WriteStatement } from '../entities/write-statement.ts';
import {
  appendHistory,
  appendInstances,
  type HistoryRow,
  touchTemporalEntities,
  touchTemporalEntity,
} from './history-store.ts';
import type { TemporalEntityInput } from './parse-temporal.ts';

/** instanceId (§4.5.7): a URI the system gives every attribute instance it keeps. */
export function newInstanceId(): string {
  return `urn:ngsi-ld:attribute:instance:${randomUUID()}`;
}

/** A new instance of an attribute as a history row. */
export function instanceRow(entityId: string, attr: string, instance: Instance, at: string): HistoryRow {
  return {
    entityId,
    attr,
    datasetId: instance.datasetId ?? '',
    instanceId: newInstanceId(),
    value: instance,
    observedAt: instance.observedAt ?? null,
    createdAt: instance.createdAt ?? at,
    modifiedAt: instance.modifiedAt ?? at,
    deletedAt: null,
  };
}

/** The end of an instance's series: NGSI-LD 1.8 shows it as an instance with deletedAt. */
function deletionRow(entityId: string, attr: string, instance: Instance, at: string): HistoryRow {
  const value: Partial<Instance> = { type: instance.type };
  if (instance.datasetId) value.datasetId = instance.datasetId;
  return {
    entityId,
    attr,
    datasetId: instance.datasetId ?? '',
    instanceId: newInstanceId(),
    value,
    observedAt: null,
    createdAt: instance.createdAt ?? at,
    modifiedAt: at,
    deletedAt: at,
  };
}

const sameDataset = (a: Instance, b: Instance) => (a.datasetId ?? '') === (b.datasetId ?? '');

/**
 * The rows one attribute contributes: each instance that is new or changed (an instance kept exactly
 * as it was, e.g. another datasetId of a multi-attribute the request did not name, is not repeated),
 * and a deletion for each instance that is gone.
 */
function attributeRows(change: EntityChange, entity: StoredEntity, attr: string): HistoryRow[] {
  const before = change.before?.attrs[attr] ?? [];
  const after = change.after?.attrs[attr] ?? [];
  const rows: HistoryRow[] = [];
  for (const instance of after) {
    const old = before.find((b) => sameDataset(b, instance));
    if (!old || JSON.stringify(old) !== JSON.stringify(instance)) {
      rows.push(instanceRow(entity.id, attr, instance, change.at));
    }
  }
  for (const old of before) {
    if (!after.some((a) => sameDataset(a, old))) {
      rows.push(deletionRow(entity.id, attr, old, change.at));
    }
  }
  return rows;
}

/**
 * Adds to the write statement of a group of changes what they did to the touched attributes, and the
 * refresh of each entity's temporal record.
 */
export function recordHistory(statement: WriteStatement, changes: EntityChange[]): void {
  const changedEntity = (change: EntityChange) => (change.after ?? change.before) as StoredEntity;
  const [first] = changes;
  if (!first) {
    return;
  }
  const entities = changes.map((change) => {
    const { id, types, scopes } = changedEntity(change);
    return { id, types, scopes, at: change.at, deleted: change.kind === 'delete' };
  });
  touchTemporalEntities(statement, first.tenant, entities);
  const rows = changes.flatMap((change) =>
    change.attributes.flatMap((attr) => attributeRows(change, changedEntity(change), attr)),
  );
  appendHistory(statement, first.tenant, rows);
}

/**
 * Adds instances sent to the temporal API (§5.6.11, §5.6.12) to the history, and nothing else: the
 * current entity stays as it is. Returns true when the entity had no history before.
 */
export async function addHistory(
  tx: Queryable,
  tenant: string,
  entity: TemporalEntityInput,
): Promise<boolean> {
  const at = new Date().toISOString();
  const created = await touchTemporalEntity(tx, tenant, entity, at, 'history');
  const rows = Object.entries(entity.attrs).flatMap(([attr, instances]) =>
    instances.map((instance) =>
      instanceRow(entity.id, attr, { ...instance, createdAt: at, modifiedAt: at }, at),
    ),
  );
  await appendInstances(tx, tenant, rows);
  return created;
}
