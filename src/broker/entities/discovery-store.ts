/**
 * SQL for discovery (ETSI GS CIM 009 §5.7.5–5.7.10): which entity types and attributes a tenant's
 * entities have, computed from `broker.entities` itself so the answer is never stale. Every function
 * takes the transaction of `db.withTenant`; row-level security keeps it to the request's tenant.
 * Names are expanded IRIs here; the routes compact them with the request's @context. Each function
 * takes the caller's TypeRestriction (authorise.ts) and counts only the entities it may read, so
 * discovery never names a type or attribute that only unreadable entities have.
 *
 * Cost: looking up one type (the GIN index on `types`) or one attribute (the GIN index on
 * `broker.attr_names(attrs)`, migration 004) reads only the entities that have it. Listing every type
 * or attribute reads every entity of the tenant: a few hundred milliseconds at 100k entities, seconds
 * at 1M. When a tenant grows that large, the change hook (entities/changes.ts) should keep a
 * per-tenant summary `(type, attribute, attribute type, count)` up to date and these lists read it.
 */
import type { Queryable } from '../../platform/index.ts';
import { restrictionSql, type TypeRestriction } from '../authorise.ts';
import { SqlParams } from '../query/sql-params.ts';

export interface TypeAttributes {
  type: string;
  attributeNames: string[];
}

export interface AttributeSummary {
  name: string;
  /** Attribute instances with this name (each datasetId of a multi-attribute counts). */
  count: number;
  /** Property, Relationship, GeoProperty, … as stored. */
  attributeTypes: string[];
  /** Expanded types of the entities that have the attribute. */
  typeNames: string[];
}

export interface TypeSummary {
  entityCount: number;
  attributes: AttributeSummary[];
}

/** `where …` keeping to the readable entities (and to `condition`, a SQL condition on `e`), or ''. */
function readableOnly(readable: TypeRestriction, params: SqlParams, condition?: string): string {
  const clauses = [condition, restrictionSql(readable, (v) => params.add(v))].filter(Boolean);
  return clauses.length ? `where ${clauses.join(' and ')}` : '';
}

export async function listTypes(tx: Queryable, readable: TypeRestriction): Promise<string[]> {
  const params = new SqlParams();
  const { rows } = await tx.query<{ type: string }>(
    `select distinct t as type from broker.entities e cross join unnest(e.types) as t
      ${readableOnly(readable, params)} order by 1`,
    params.values,
  );
  return rows.map((r) => r.type);
}

/** Every type with the attribute names its entities have (`details=true`, §5.7.5). */
export async function listTypesWithAttributes(
  tx: Queryable,
  readable: TypeRestriction,
): Promise<TypeAttributes[]> {
  const params = new SqlParams();
  const { rows } = await tx.query<{ type: string; names: string[] }>(
    `select t as type, coalesce(array_agg(distinct k order by k) filter (where k is not null), '{}') as names
       from broker.entities e
       cross join unnest(e.types) as t
       left join lateral jsonb_object_keys(e.attrs) as k on true
      ${readableOnly(readable, params)}
      group by t
      order by t`,
    params.values,
  );
  return rows.map((r) => ({ type: r.type, attributeNames: r.names }));
}

export async function listAttributes(tx: Queryable, readable: TypeRestriction): Promise<string[]> {
  const params = new SqlParams();
  const { rows } = await tx.query<{ name: string }>(
    `select distinct jsonb_object_keys(e.attrs) as name from broker.entities e
      ${readableOnly(readable, params)} order by 1`,
    params.values,
  );
  return rows.map((r) => r.name);
}

/**
 * Summaries of the attributes of the readable entities that `where` selects (a SQL condition on `e`
 * with its values in `params`), optionally of one attribute only. Instances, attribute types and
 * entity types are aggregated apart so that one does not multiply the other's rows.
 */
async function summarise(
  tx: Queryable,
  readable: TypeRestriction,
  where?: { sql: string; params: SqlParams },
  onlyAttribute?: string,
): Promise<AttributeSummary[]> {
  const params = where?.params ?? new SqlParams();
  const conditions = [where?.sql];
  if (onlyAttribute !== undefined) {
    conditions.push(`a.key = ${params.add(onlyAttribute)}`);
  }
  const filter = readableOnly(readable, params, conditions.filter(Boolean).join(' and ') || undefined);
  const { rows } = await tx.query<{
    name: string;
    count: number;
    attr_types: string[];
    type_names: string[];
  }>(
    `with hit as (
       select e.types, a.key, a.value
         from broker.entities e cross join lateral jsonb_each(e.attrs) as a
        ${filter}
     )
     select c.key as name, c.count, t.attr_types, n.type_names
       from (select key, sum(jsonb_array_length(value))::int as count from hit group by key) as c
       join (select key, array_agg(distinct i->>'type' order by i->>'type') as attr_types
               from hit cross join jsonb_array_elements(value) as i group by key) as t using (key)
       join (select key, array_agg(distinct tn order by tn) as type_names
               from hit cross join unnest(types) as tn group by key) as n using (key)
      order by c.key`,
    params.values,
  );
  return rows.map((r) => ({
    name: r.name,
    count: r.count,
    attributeTypes: r.attr_types,
    typeNames: r.type_names,
  }));
}

/** Entity count and attribute details of one type (§5.7.7); undefined when no entity has it. */
export async function describeType(
  tx: Queryable,
  type: string,
  readable: TypeRestriction,
): Promise<TypeSummary | undefined> {
  const ofType = (params: SqlParams) => ({ sql: `e.types @> array[${params.add(type)}::text]`, params });
  const counting = ofType(new SqlParams());
  const { rows } = await tx.query<{ n: number }>(
    `select count(*)::int as n from broker.entities e ${readableOnly(readable, counting.params, counting.sql)}`,
    counting.params.values,
  );
  const entityCount = rows[0]?.n ?? 0;
  if (entityCount === 0) {
    return undefined;
  }
  const attributes = await summarise(tx, readable, ofType(new SqlParams()));
  return { entityCount, attributes };
}

/** Details of every attribute (§5.7.8, `details=true`). */
export function describeAttributes(tx: Queryable, readable: TypeRestriction): Promise<AttributeSummary[]> {
  return summarise(tx, readable);
}

/** Details of one attribute (§5.7.10); undefined when no entity has it. */
export async function describeAttribute(
  tx: Queryable,
  name: string,
  readable: TypeRestriction,
): Promise<AttributeSummary | undefined> {
  const params = new SqlParams();
  const sql = `broker.attr_names(e.attrs) @> array[${params.add(name)}::text]`;
  const [summary] = await summarise(tx, readable, { sql, params }, name);
  return summary;
}
