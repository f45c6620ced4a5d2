/**
 * SQL for entities. Every function takes the transaction of `db.withTenant`, so row-level security
 * keeps it to the request's tenant; `tenant` is also written explicitly (the policy checks it).
 */
import type { Queryable } from '../../platform/index.ts';
import { AlreadyExists, ResourceNotFound } from '../errors.ts';
import type { SqlParams } from '../query/sql-params.ts';
import { entityChanged } from './changes.ts';
import type { AttributeMap, Instance, StoredEntity } from './model.ts';

interface EntityRow {
  id: string;
  types: string[];
  scopes: string[] | null;
  attrs: AttributeMap;
  created_at: Date;
  modified_at: Date;
}

function toEntity(row: EntityRow): StoredEntity {
  return {
    id: row.id,
    types: row.types,
    scopes: row.scopes,
    attrs: row.attrs,
    createdAt: row.created_at.toISOString(),
    modifiedAt: row.modified_at.toISOString(),
  };
}

/** Stamps createdAt/modifiedAt on every instance (and sub-attribute instance) written now. */
export function stampInstances(attrs: AttributeMap, now: string, previous?: AttributeMap): void {
  for (const [iri, instances] of Object.entries(attrs)) {
    for (const instance of instances) {
      const before = previous?.[iri]?.find((p) => (p.datasetId ?? '') === (instance.datasetId ?? ''));
      instance.createdAt = before?.createdAt ?? now;
      instance.modifiedAt = now;
      if (instance.sub) {
        stampInstances(instance.sub, now, before?.sub);
      }
    }
  }
}

function geometriesOf(attrs: AttributeMap): { attr: string; datasetId: string; geometry: unknown }[] {
  return Object.entries(attrs).flatMap(([attr, instances]) =>
    instances
      .filter((i: Instance) => i.type === 'GeoProperty' && i.value !== undefined)
      .map((i) => ({ attr, datasetId: i.datasetId ?? '', geometry: i.value })),
  );
}

/**
 * Keeps broker.geo in step with the entity's GeoProperties. Most writes leave the geometries as they
 * were, so nothing is written then; a new entity (`before` undefined) has no rows to delete.
 */
async function writeGeometries(
  tx: Queryable,
  tenant: string,
  entity: StoredEntity,
  before: StoredEntity | undefined,
): Promise<void> {
  const geometries = geometriesOf(entity.attrs);
  if (before) {
    const previous = geometriesOf(before.attrs);
    if (previous.length === 0 && geometries.length === 0) {
      return;
    }
    if (JSON.stringify(previous) === JSON.stringify(geometries)) {
      return;
    }
    await tx.query('delete from broker.geo where tenant_id = $1 and entity_id = $2', [tenant, entity.id]);
  }
  if (geometries.length === 0) {
    return;
  }
  await tx.query(
    `insert into broker.geo (tenant_id, entity_id, attr, dataset_id, geom)
     select $1, $2, g.attr, g.dataset_id, ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(g.geometry), 4326))
       from jsonb_to_recordset($3::jsonb) as g(attr text, dataset_id text, geometry text)`,
    [
      tenant,
      entity.id,
      JSON.stringify(
        geometries.map((g) => ({
          attr: g.attr,
          dataset_id: g.datasetId,
          geometry: JSON.stringify(g.geometry),
        })),
      ),
    ],
  );
}

/** @throws AlreadyExists when the tenant has an entity with this id */
export async function insertEntity(tx: Queryable, tenant: string, entity: StoredEntity): Promise<void> {
  const now = new Date().toISOString();
  stampInstances(entity.attrs, now);
  const { rowCount } = await tx.query(
    `insert into broker.entities (tenant_id, id, types, scopes, attrs, created_at, modified_at)
     values ($1, $2, $3, $4, $5, $6, $6) on conflict (tenant_id, id) do nothing`,
    [tenant, entity.id, entity.types, entity.scopes, JSON.stringify(entity.attrs), now],
  );
  if (rowCount === 0) {
    throw new AlreadyExists(`an entity with id ${entity.id} exists already`);
  }
  await writeGeometries(tx, tenant, entity, undefined);
  entity.createdAt = now;
  entity.modifiedAt = now;
  await entityChanged(tx, {
    tenant,
    kind: 'create',
    after: entity,
    attributes: Object.keys(entity.attrs),
    at: now,
  });
}

/**
 * Writes an entity's new state (after an update, merge or replacement) and reports the change.
 * @param touched expanded names of the attributes the request changed
 */
export async function saveEntity(
  tx: Queryable,
  tenant: string,
  before: StoredEntity,
  after: StoredEntity,
  change: { kind: 'update' | 'replace'; touched: string[]; at: string },
): Promise<void> {
  await tx.query(
    `update broker.entities set types = $3, scopes = $4, attrs = $5, modified_at = $6
      where tenant_id = $1 and id = $2`,
    [tenant, after.id, after.types, after.scopes, JSON.stringify(after.attrs), change.at],
  );
  after.modifiedAt = change.at;
  await writeGeometries(tx, tenant, after, before);
  await entityChanged(tx, {
    tenant,
    kind: change.kind,
    before,
    after,
    attributes: change.touched,
    at: change.at,
  });
}

export async function findEntity(
  tx: Queryable,
  id: string,
  forUpdate = false,
): Promise<StoredEntity | undefined> {
  const { rows } = await tx.query<EntityRow>(
    `select id, types, scopes, attrs, created_at, modified_at from broker.entities where id = $1${forUpdate ? ' for update' : ''}`,
    [id],
  );
  return rows[0] ? toEntity(rows[0]) : undefined;
}

export async function removeEntity(tx: Queryable, tenant: string, id: string): Promise<boolean> {
  const before = await findEntity(tx, id, true);
  if (!before) {
    return false;
  }
  await tx.query('delete from broker.entities where id = $1', [id]);
  const at = new Date().toISOString();
  await entityChanged(tx, { tenant, kind: 'delete', before, attributes: Object.keys(before.attrs), at });
  return true;
}

export interface EntityFilter {
  /** Expanded types; an entity matches when it has any of them. */
  types?: string[];
  ids?: string[];
  idPattern?: string;
  /** SQL boolean expressions over the row `e`, with their values already in `params`. */
  where: string[];
  params: SqlParams;
}

function whereClause(filter: EntityFilter): string {
  const { params } = filter;
  const clauses = [...filter.where];
  if (filter.types?.length) clauses.push(`e.types && ${params.add(filter.types)}::text[]`);
  if (filter.ids?.length) clauses.push(`e.id = any(${params.add(filter.ids)}::text[])`);
  if (filter.idPattern) clauses.push(`e.id ~ ${params.add(filter.idPattern)}`);
  return clauses.length ? `where ${clauses.join(' and ')}` : '';
}

/** One page of matching entities in id order (stable across pages), and the total when asked. */
export async function queryEntities(
  tx: Queryable,
  filter: EntityFilter,
  page: { limit: number; offset: number; count: boolean },
): Promise<{ entities: StoredEntity[]; total?: number }> {
  const where = whereClause(filter);
  const limit = filter.params.add(page.limit);
  const offset = filter.params.add(page.offset);
  const { rows } = await tx.query<EntityRow>(
    `select e.id, e.types, e.scopes, e.attrs, e.created_at, e.modified_at from broker.entities e ${where}
      order by e.id limit ${limit} offset ${offset}`,
    filter.params.values,
  );
  let total: number | undefined;
  if (page.count) {
    const counted = await tx.query<{ n: number }>(
      `select count(*)::int as n from broker.entities e ${where}`,
      filter.params.values.slice(0, -2),
    );
    total = counted.rows[0]?.n ?? 0;
  }
  return { entities: rows.map(toEntity), total };
}

/** The new state of an entity after a request, and the attributes the request touched. */
export interface Modification {
  after: StoredEntity;
  /** Expanded names; nothing is written when this is empty. */
  touched: string[];
}

/**
 * Read-modify-write of one entity under its row lock (select … for update), so that two concurrent
 * updates of the same entity cannot lose one another. A request that changes nothing writes nothing.
 * @throws ResourceNotFound when the tenant has no entity with this id
 */
export async function modifyEntity<M extends Modification>(
  tx: Queryable,
  tenant: string,
  id: string,
  change: (before: StoredEntity, now: string) => M,
  kind: 'update' | 'replace' = 'update',
): Promise<M> {
  const before = await findEntity(tx, id, true);
  if (!before) {
    throw new ResourceNotFound(`no entity ${id}`);
  }
  const at = new Date().toISOString();
  const result = change(before, at);
  // A request that only adds types or sets scope touches no attribute but still changes the entity.
  const members = (e: StoredEntity) => JSON.stringify([e.types, e.scopes]);
  if (result.touched.length > 0 || members(result.after) !== members(before)) {
    await saveEntity(tx, tenant, before, result.after, { kind, touched: result.touched, at });
  }
  return result;
}

/**
 * Runs one entity's write of a batch under a savepoint: when it fails, its rows and its change
 * report are undone and the batch's transaction goes on with the next entity (§5.6.7–5.6.10).
 */
export async function withSavepoint<T>(tx: Queryable, fn: () => Promise<T>): Promise<T> {
  await tx.query('savepoint entity_write');
  try {
    const result = await fn();
    await tx.query('release savepoint entity_write');
    return result;
  } catch (error) {
    await tx.query('rollback to savepoint entity_write');
    throw error;
  }
}

/** Entities that match any of the selectors (§5.2.33 EntitySelector), as a SQL expression over `e`. */
export function selectorsClause(
  selectors: { types?: string[]; id?: string; idPattern?: string }[],
  params: SqlParams,
): string {
  const each = selectors.map((s) => {
    const parts: string[] = [];
    if (s.types?.length) parts.push(`e.types && ${params.add(s.types)}::text[]`);
    if (s.id) parts.push(`e.id = ${params.add(s.id)}`);
    if (s.idPattern) parts.push(`e.id ~ ${params.add(s.idPattern)}`);
    return parts.length ? `(${parts.join(' and ')})` : 'true';
  });
  return `(${each.join(' or ')})`;
}
