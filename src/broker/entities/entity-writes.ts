/**
 * The write of a group of entity changes as one statement (write-statement.ts): the new entities,
 * the changed ones and the deleted ones, their geometries in broker.geo, and through
 * entities/changes.ts the history and the subscription candidates. A group names each entity at
 * most once; a batch that names one twice writes it in two groups, one after the other.
 *
 * New entities are inserted in id order, so two batches that create the same ids wait for one
 * another instead of deadlocking; the rows of existing entities are locked beforehand, in id order
 * too (store.ts `lockEntities`).
 */
import type { Queryable } from '../../platform/index.ts';
import { type EntityChange, entitiesChanged } from './changes.ts';
import type { StoredEntity } from './model.ts';
import { WriteStatement } from './write-statement.ts';

interface Geometry {
  entity_id: string;
  attr: string;
  dataset_id: string;
  /** The GeoJSON geometry as text. */
  geometry: string;
}

function geometriesOf(entity: StoredEntity): Geometry[] {
  return Object.entries(entity.attrs).flatMap(([attr, instances]) =>
    instances
      .filter((i) => i.type === 'GeoProperty' && i.value !== undefined)
      .map((i) => ({
        entity_id: entity.id,
        attr,
        dataset_id: i.datasetId ?? '',
        geometry: JSON.stringify(i.value),
      })),
  );
}

/**
 * What broker.geo needs: the geometries to put, and the entities whose geometries changed (their
 * rows not put again go). Most updates leave the geometries as they were, and then write nothing
 * there; a deleted entity's rows go with it (on delete cascade).
 */
function geometryChanges(changes: EntityChange[]): { put: Geometry[]; changed: string[] } {
  const put: Geometry[] = [];
  const changed: string[] = [];
  for (const change of changes) {
    if (!change.after) continue;
    const now = geometriesOf(change.after);
    if (change.before) {
      if (JSON.stringify(geometriesOf(change.before)) === JSON.stringify(now)) continue;
      changed.push(change.after.id);
    }
    put.push(...now);
  }
  return { put, changed };
}

const entityRow = (entity: StoredEntity, at: string) => ({
  id: entity.id,
  types: entity.types,
  scopes: entity.scopes,
  attrs: entity.attrs,
  at,
});

const ENTITY_RECORD = 'r(id text, types text[], scopes text[], attrs jsonb, at timestamptz)';

/** Adds the writes of broker.entities, and `written`: the entities they wrote, by id and attrs. */
function writeEntities(statement: WriteStatement, tenant: string, changes: EntityChange[]): void {
  const p = statement.params;
  const t = p.add(tenant);
  const parts: string[] = [];
  const created = changes.filter((c) => c.kind === 'create' && c.after);
  if (created.length) {
    const rows = p.add(JSON.stringify(created.map((c) => entityRow(c.after as StoredEntity, c.at))));
    statement.with(
      'created',
      `insert into broker.entities (tenant_id, id, types, scopes, attrs, created_at, modified_at)
       select ${t}, r.id, r.types, r.scopes, r.attrs, r.at, r.at
         from jsonb_to_recordset(${rows}::jsonb) as ${ENTITY_RECORD}
        order by r.id
       on conflict (tenant_id, id) do nothing
       returning id, attrs`,
    );
    parts.push('select id, attrs from created');
  }
  const updated = changes.filter((c) => c.kind !== 'create' && c.after);
  if (updated.length) {
    const rows = p.add(JSON.stringify(updated.map((c) => entityRow(c.after as StoredEntity, c.at))));
    statement.with(
      'updated',
      `update broker.entities e
          set types = r.types, scopes = r.scopes, attrs = r.attrs, modified_at = r.at
         from jsonb_to_recordset(${rows}::jsonb) as ${ENTITY_RECORD}
        where e.tenant_id = ${t} and e.id = r.id
       returning e.id, e.attrs`,
    );
    parts.push('select id, attrs from updated');
  }
  const removed = changes.filter((c) => !c.after && c.before).map((c) => (c.before as StoredEntity).id);
  if (removed.length) {
    statement.with(
      'removed',
      `delete from broker.entities e where e.tenant_id = ${t} and e.id = any(${p.add(removed)}::text[])
       returning e.id, e.attrs`,
    );
    parts.push('select id, attrs from removed');
  }
  statement.with('written', parts.join(' union all '));
}

/**
 * Adds the writes of broker.geo: the rows of changed entities that are not put again go, and the
 * rows put are inserted or replace the row of the same attribute and datasetId. The two touch
 * different rows, so the order in which PostgreSQL runs them does not matter.
 */
function writeGeometries(statement: WriteStatement, tenant: string, changes: EntityChange[]): void {
  const { put, changed } = geometryChanges(changes);
  if (put.length === 0 && changed.length === 0) return;
  const p = statement.params;
  const t = p.add(tenant);
  const rows = p.add(JSON.stringify(put));
  if (changed.length) {
    statement.with(
      'geo_dropped',
      `delete from broker.geo g
        where g.tenant_id = ${t} and g.entity_id = any(${p.add(changed)}::text[])
          and not exists (
                select from jsonb_to_recordset(${rows}::jsonb) as n(entity_id text, attr text, dataset_id text)
                 where n.entity_id = g.entity_id and n.attr = g.attr and n.dataset_id = g.dataset_id)`,
    );
  }
  if (put.length) {
    statement.with(
      'geo_put',
      `insert into broker.geo (tenant_id, entity_id, attr, dataset_id, geom)
       select ${t}, n.entity_id, n.attr, n.dataset_id,
              ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON(n.geometry), 4326))
         from jsonb_to_recordset(${rows}::jsonb) as n(entity_id text, attr text, dataset_id text, geometry text)
        where n.entity_id in (select id from written)
       on conflict (tenant_id, entity_id, attr, dataset_id) do update set geom = excluded.geom`,
    );
  }
}

/**
 * Writes a group of changes (each entity at most once, all of one tenant) and what follows from
 * them. Returns the ids written: a creation whose id exists already (another transaction created it
 * meanwhile) writes nothing at all, neither the entity nor its geometries, history or notifications.
 */
export async function writeChanges(tx: Queryable, changes: EntityChange[]): Promise<Set<string>> {
  const [first] = changes;
  if (!first) return new Set();
  const statement = new WriteStatement();
  writeEntities(statement, first.tenant, changes);
  writeGeometries(statement, first.tenant, changes);
  return entitiesChanged(tx, changes, statement);
}
