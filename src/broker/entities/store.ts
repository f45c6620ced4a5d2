/**
 * SQL for entities. Every function takes the transaction of `db.withTenant`, so row-level security
 * keeps it to the request's tenant; `tenant` is also written explicitly (the policy checks it).
 * Every write is one statement of entity-writes.ts, with what follows from it (entities/changes.ts).
 */
import type { Queryable } from '../../platform/index.ts';
import { AlreadyExists, ResourceNotFound } from '../errors.ts';
import type { SqlParams } from '../query/sql-params.ts';
import { compileTypeExpr, type TypeExpr } from '../query/type-expr.ts';
import type { EntityChange } from './changes.ts';
import { writeChanges } from './entity-writes.ts';
import type { AttributeMap, StoredEntity } from './model.ts';

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

/** A creation: the entity stamped as written now. */
export function creation(tenant: string, entity: StoredEntity, now: string): EntityChange {
  stampInstances(entity.attrs, now);
  entity.createdAt = now;
  entity.modifiedAt = now;
  return { tenant, kind: 'create', after: entity, attributes: Object.keys(entity.attrs), at: now };
}

/**
 * The change a request made to an entity, or undefined when it changed nothing: a request that
 * only adds types or sets scope touches no attribute but still changes the entity.
 */
export function modification(
  tenant: string,
  before: StoredEntity,
  result: Modification,
  kind: 'update' | 'replace',
  at: string,
): EntityChange | undefined {
  const members = (e: StoredEntity) => JSON.stringify([e.types, e.scopes]);
  if (result.touched.length === 0 && members(result.after) === members(before)) {
    return undefined;
  }
  result.after.modifiedAt = at;
  return { tenant, kind, before, after: result.after, attributes: result.touched, at };
}

export function deletion(tenant: string, before: StoredEntity, at: string): EntityChange {
  return { tenant, kind: 'delete', before, attributes: Object.keys(before.attrs), at };
}

/**
 * Writes a new entity, stored as `stored` makes it once stamped (personal entities: sealed).
 * @throws AlreadyExists when the tenant has an entity with this id
 */
export async function insertEntity(
  tx: Queryable,
  tenant: string,
  entity: StoredEntity,
  stored: (stamped: StoredEntity) => StoredEntity = (stamped) => stamped,
): Promise<void> {
  const change = creation(tenant, entity, new Date().toISOString());
  const written = await writeChanges(tx, [{ ...change, after: stored(entity) }]);
  if (!written.has(entity.id)) {
    throw new AlreadyExists(`an entity with id ${entity.id} exists already`);
  }
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

/**
 * The tenant's entities with these ids, their rows locked for the rest of the transaction; locked in
 * id order, so that two writers of overlapping sets of entities wait for one another and never
 * deadlock.
 */
export async function lockEntities(tx: Queryable, ids: string[]): Promise<Map<string, StoredEntity>> {
  if (ids.length === 0) {
    return new Map();
  }
  const { rows } = await tx.query<EntityRow>(
    `select id, types, scopes, attrs, created_at, modified_at from broker.entities
      where id = any($1::text[]) order by id for update`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, toEntity(row)]));
}

export async function removeEntity(tx: Queryable, tenant: string, id: string): Promise<boolean> {
  const before = await findEntity(tx, id, true);
  if (!before) {
    return false;
  }
  await writeChanges(tx, [deletion(tenant, before, new Date().toISOString())]);
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
  const changed = modification(tenant, before, result, kind, at);
  if (changed) {
    await writeChanges(tx, [changed]);
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
  selectors: { types?: string[]; typeExpr?: TypeExpr; id?: string; idPattern?: string }[],
  params: SqlParams,
): string {
  const each = selectors.map((s) => {
    const parts: string[] = [];
    if (s.typeExpr) parts.push(compileTypeExpr(s.typeExpr, params));
    else if (s.types?.length) parts.push(`e.types && ${params.add(s.types)}::text[]`);
    if (s.id) parts.push(`e.id = ${params.add(s.id)}`);
    if (s.idPattern) parts.push(`e.id ~ ${params.add(s.idPattern)}`);
    return parts.length ? `(${parts.join(' and ')})` : 'true';
  });
  return `(${each.join(' or ')})`;
}
