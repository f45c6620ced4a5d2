/**
 * SQL for the temporal store (migrations/003_temporal.sql). Every function takes the transaction of
 * `db.withTenant`, so row-level security keeps it to the request's tenant.
 */
import type { Queryable } from '../../platform/index.ts';
import type { Instance } from '../entities/model.ts';
import type { WriteStatement } from '../entities/write-statement.ts';
import type { SqlParams } from '../query/sql-params.ts';
import type { TimeFilter } from './temporal-query.ts';

/** One attribute instance on its way into the history. */
export interface HistoryRow {
  entityId: string;
  attr: string;
  datasetId: string;
  instanceId: string;
  /** The stored instance; for a deletion, only its type and datasetId. */
  value: Partial<Instance>;
  observedAt: string | null;
  createdAt: string;
  modifiedAt: string;
  deletedAt: string | null;
}

export interface TemporalEntityRow {
  id: string;
  types: string[];
  scopes: string[] | null;
  created_at: Date;
  modified_at: Date;
  deleted_at: Date | null;
}

/** An instance read back, with the time of the query's timeproperty. */
export interface InstanceRow {
  entity_id: string;
  attr: string;
  instance_id: string;
  value: Instance;
  t: Date | null;
  observed_at: Date | null;
  created_at: Date;
  modified_at: Date;
  deleted_at: Date | null;
}

/**
 * What a write says about the entity's existence: it is current (created or changed), deleted from
 * the current store, or only given history (which leaves a deletion as it was).
 */
export type EntityState = 'current' | 'deleted' | 'history';

/** Creates or refreshes the entity's temporal record; true when it is new. */
export async function touchTemporalEntity(
  tx: Queryable,
  tenant: string,
  entity: { id: string; types: string[]; scopes: string[] | null },
  at: string,
  state: EntityState,
): Promise<boolean> {
  const { rows } = await tx.query<{ inserted: boolean }>(
    `insert into broker.temporal_entities as t (tenant_id, id, types, scopes, created_at, modified_at, deleted_at)
     values ($1, $2, $3, $4, $5, $5, case when $6 = 'deleted' then $5::timestamptz end)
     on conflict (tenant_id, id) do update
        set types = t.types || array(select x from unnest(excluded.types) as x where x <> all (t.types)),
            scopes = coalesce(excluded.scopes, t.scopes),
            modified_at = excluded.modified_at,
            deleted_at = case $6 when 'history' then t.deleted_at else excluded.deleted_at end
     returning (xmax = 0) as inserted`,
    [tenant, entity.id, entity.types, entity.scopes, at, state],
  );
  return rows[0]?.inserted ?? false;
}

/** An entity a write changed, for its temporal record. */
export interface TemporalTouch {
  id: string;
  types: string[];
  scopes: string[] | null;
  at: string;
  /** Deleted from the current store by this change. */
  deleted: boolean;
}

/**
 * Adds to a write statement the creation or refresh of its entities' temporal records, in id order
 * (as the entities are written), for the entities the statement writes (`written`).
 */
export function touchTemporalEntities(
  statement: WriteStatement,
  tenant: string,
  entities: TemporalTouch[],
): void {
  if (entities.length === 0) return;
  const p = statement.params;
  statement.with(
    'temporal_touched',
    `insert into broker.temporal_entities as t (tenant_id, id, types, scopes, created_at, modified_at, deleted_at)
     select ${p.add(tenant)}, c.id, c.types, c.scopes, c.at, c.at, case when c.deleted then c.at end
       from jsonb_to_recordset(${p.add(JSON.stringify(entities))}::jsonb)
            as c(id text, types text[], scopes text[], at timestamptz, deleted boolean)
      where c.id in (select id from written)
      order by c.id
     on conflict (tenant_id, id) do update
        set types = t.types || array(select x from unnest(excluded.types) as x where x <> all (t.types)),
            scopes = coalesce(excluded.scopes, t.scopes),
            modified_at = excluded.modified_at,
            deleted_at = excluded.deleted_at`,
  );
}

const INSTANCE_COLUMNS = `(tenant_id, entity_id, attr, dataset_id, instance_id, value, observed_at, created_at, modified_at,
        deleted_at, at)`;
const INSTANCE_RECORD = `r("entityId" text, attr text, "datasetId" text,
            "instanceId" text, value jsonb, "observedAt" timestamptz, "createdAt" timestamptz,
            "modifiedAt" timestamptz, "deletedAt" timestamptz)`;

/**
 * Adds to a write statement the history rows of the entities it writes (`written`). A new instance
 * is not sent again: its value is read from the entity's attributes as the statement writes them.
 */
export function appendHistory(statement: WriteStatement, tenant: string, rows: HistoryRow[]): void {
  if (rows.length === 0) return;
  const p = statement.params;
  const sent = rows.map(({ value, ...row }) => (row.deletedAt ? { ...row, value } : row));
  statement.with(
    'history_appended',
    `insert into broker.attribute_instances ${INSTANCE_COLUMNS}
     select ${p.add(tenant)}, r."entityId", r.attr, r."datasetId", r."instanceId",
            coalesce(r.value, (select i from jsonb_array_elements(w.attrs -> r.attr) as i
                                where coalesce(i->>'datasetId', '') = r."datasetId" limit 1)),
            r."observedAt", r."createdAt", r."modifiedAt", r."deletedAt", coalesce(r."observedAt", r."modifiedAt")
       from jsonb_to_recordset(${p.add(JSON.stringify(sent))}::jsonb) as ${INSTANCE_RECORD}
       join written w on w.id = r."entityId"`,
  );
}

export async function appendInstances(tx: Queryable, tenant: string, rows: HistoryRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await tx.query(
    `insert into broker.attribute_instances ${INSTANCE_COLUMNS}
     select $1, r."entityId", r.attr, r."datasetId", r."instanceId", r.value, r."observedAt", r."createdAt",
            r."modifiedAt", r."deletedAt", coalesce(r."observedAt", r."modifiedAt")
       from jsonb_to_recordset($2::jsonb) as ${INSTANCE_RECORD}`,
    [tenant, JSON.stringify(rows)],
  );
}

/** The column of each timeproperty in the instance row `i`. */
export const TIME_COLUMN = {
  observedAt: 'i.observed_at',
  createdAt: 'i.created_at',
  modifiedAt: 'i.modified_at',
  deletedAt: 'i.deleted_at',
} as const;

/**
 * The SQL conditions of a time filter over the instance row `i` (§4.11): before is t < timeAt, after
 * is t ≥ timeAt (so before and after split the timeline), between is timeAt ≤ t < endTimeAt.
 * For observedAt the same bounds go on the partition key `at` (equal to observed_at whenever that
 * is set), which lets PostgreSQL skip the months outside the query.
 */
export function timeConditions(time: TimeFilter, params: SqlParams): string[] {
  const column = TIME_COLUMN[time.property];
  const columns = time.property === 'observedAt' ? [column, 'i.at'] : [column];
  const conditions = [`${column} is not null`];
  const from = time.timeAt === undefined ? '' : `${params.add(time.timeAt)}::timestamptz`;
  for (const c of columns) {
    if (time.timerel === 'before') conditions.push(`${c} < ${from}`);
    if (time.timerel === 'after' || time.timerel === 'between') conditions.push(`${c} >= ${from}`);
    if (time.timerel === 'between') conditions.push(`${c} < ${params.add(time.endTimeAt)}::timestamptz`);
  }
  return conditions;
}

/** The instance filter shared by plain and aggregated reads. */
export function instanceWhere(
  params: SqlParams,
  entityIds: string[],
  attrs: string[] | undefined,
  time: TimeFilter,
): string {
  const clauses = [`i.entity_id = any(${params.add(entityIds)}::text[])`, ...timeConditions(time, params)];
  if (attrs?.length) {
    clauses.push(`i.attr = any(${params.add(attrs)}::text[])`);
  }
  return clauses.join(' and ');
}

/** The entities' instances in time order per attribute; with lastN, only the last N of each series. */
export async function selectInstances(
  tx: Queryable,
  params: SqlParams,
  query: { entityIds: string[]; attrs?: string[]; time: TimeFilter; lastN?: number },
): Promise<InstanceRow[]> {
  const where = instanceWhere(params, query.entityIds, query.attrs, query.time);
  const column = TIME_COLUMN[query.time.property];
  // The window is only worth its sort when lastN asks for the end of each series.
  const ranked =
    query.lastN === undefined
      ? ''
      : `, row_number() over (partition by i.entity_id, i.attr, i.dataset_id
                               order by ${column} desc, i.instance_id desc) as rn`;
  const lastN = query.lastN === undefined ? '' : `where s.rn <= ${params.add(query.lastN)}`;
  const { rows } = await tx.query<InstanceRow>(
    `select s.entity_id, s.attr, s.instance_id, s.value, s.t, s.observed_at, s.created_at, s.modified_at,
            s.deleted_at
       from (select i.*, ${column} as t${ranked} from broker.attribute_instances i where ${where}) s
      ${lastN}
      order by s.entity_id, s.attr, s.t, s.instance_id`,
    params.values,
  );
  return rows;
}

export interface TemporalEntityFilter {
  types?: string[];
  ids?: string[];
  idPattern?: string;
  /** Expanded attribute names: an entity qualifies when it has history for one of them. */
  attrs?: string[];
  /** SQL over the current entity `e` (q, geo), with values already in `params`. */
  where: string[];
  params: SqlParams;
}

/** One page of entities with history, in id order; q and geo look at their current state. */
export async function queryTemporalEntities(
  tx: Queryable,
  filter: TemporalEntityFilter,
  page: { limit: number; offset: number; count: boolean },
): Promise<{ entities: TemporalEntityRow[]; total?: number }> {
  const { params } = filter;
  const clauses = [...filter.where];
  if (filter.types?.length) clauses.push(`t.types && ${params.add(filter.types)}::text[]`);
  if (filter.ids?.length) clauses.push(`t.id = any(${params.add(filter.ids)}::text[])`);
  if (filter.idPattern) clauses.push(`t.id ~ ${params.add(filter.idPattern)}`);
  if (filter.attrs?.length) {
    clauses.push(`exists (select 1 from broker.attribute_instances i
       where i.tenant_id = t.tenant_id and i.entity_id = t.id and i.attr = any(${params.add(filter.attrs)}::text[]))`);
  }
  const from = `from broker.temporal_entities t
    left join broker.entities e on e.tenant_id = t.tenant_id and e.id = t.id
    ${clauses.length ? `where ${clauses.join(' and ')}` : ''}`;
  const counted = params.values.length;
  const { rows } = await tx.query<TemporalEntityRow>(
    `select t.id, t.types, t.scopes, t.created_at, t.modified_at, t.deleted_at ${from}
      order by t.id limit ${params.add(page.limit)} offset ${params.add(page.offset)}`,
    params.values,
  );
  let total: number | undefined;
  if (page.count) {
    const result = await tx.query<{ n: number }>(
      `select count(*)::int as n ${from}`,
      params.values.slice(0, counted),
    );
    total = result.rows[0]?.n ?? 0;
  }
  return { entities: rows, total };
}

export async function findTemporalEntity(tx: Queryable, id: string): Promise<TemporalEntityRow | undefined> {
  const { rows } = await tx.query<TemporalEntityRow>(
    `select id, types, scopes, created_at, modified_at, deleted_at from broker.temporal_entities where id = $1`,
    [id],
  );
  return rows[0];
}

/** Deletes an entity's whole history (§5.6.16); false when there was none. */
export async function removeHistory(tx: Queryable, id: string): Promise<boolean> {
  await tx.query('delete from broker.attribute_instances where entity_id = $1', [id]);
  const { rowCount } = await tx.query('delete from broker.temporal_entities where id = $1', [id]);
  return rowCount > 0;
}

/**
 * Deletes an attribute's history (§5.6.13): the default instance's series, one datasetId's, or
 * every series with deleteAll; returns how many instances went.
 */
export async function removeAttributeHistory(
  tx: Queryable,
  id: string,
  attr: string,
  series: { datasetId?: string; all: boolean },
): Promise<number> {
  const { rowCount } = await tx.query(
    `delete from broker.attribute_instances
      where entity_id = $1 and attr = $2 and ($3 or dataset_id = $4)`,
    [id, attr, series.all, series.datasetId ?? ''],
  );
  return rowCount;
}

/** Deletes one instance (§5.6.15); false when there is no such instance. */
export async function removeInstance(
  tx: Queryable,
  id: string,
  attr: string,
  instanceId: string,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    'delete from broker.attribute_instances where entity_id = $1 and attr = $2 and instance_id = $3',
    [id, attr, instanceId],
  );
  return rowCount > 0;
}
