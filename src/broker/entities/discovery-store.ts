/**
 * SQL for discovery (ETSI GS CIM 009 §5.7.5–5.7.10): which entity types and attributes a tenant's
 * entities have, computed from `broker.entities` itself so the answer is never stale. Every function
 * takes the transaction of `db.withTenant`; row-level security keeps it to the request's tenant.
 * Names are expanded IRIs here; the routes compact them with the request's @context.
 *
 * Cost: looking up one type (the GIN index on `types`) or one attribute (the GIN index on
 * `broker.attr_names(attrs)`, migration 004) reads only the entities that have it. Listing every type
 * or attribute reads every entity of the tenant: a few hundred milliseconds at 100k entities, seconds
 * at 1M. When a tenant grows that large, the change hook (entities/changes.ts) should keep a
 * per-tenant summary `(type, attribute, attribute type, count)` up to date and these lists read it.
 */
import type { Queryable } from '../../platform/index.ts';

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

export async function listTypes(tx: Queryable): Promise<string[]> {
  const { rows } = await tx.query<{ type: string }>(
    'select distinct t as type from broker.entities e cross join unnest(e.types) as t order by 1',
  );
  return rows.map((r) => r.type);
}

/** Every type with the attribute names its entities have (`details=true`, §5.7.5). */
export async function listTypesWithAttributes(tx: Queryable): Promise<TypeAttributes[]> {
  const { rows } = await tx.query<{ type: string; names: string[] }>(
    `select t as type, coalesce(array_agg(distinct k order by k) filter (where k is not null), '{}') as names
       from broker.entities e
       cross join unnest(e.types) as t
       left join lateral jsonb_object_keys(e.attrs) as k on true
      group by t
      order by t`,
  );
  return rows.map((r) => ({ type: r.type, attributeNames: r.names }));
}

export async function listAttributes(tx: Queryable): Promise<string[]> {
  const { rows } = await tx.query<{ name: string }>(
    'select distinct jsonb_object_keys(e.attrs) as name from broker.entities e order by 1',
  );
  return rows.map((r) => r.name);
}

/**
 * Summaries of the attributes of the entities that `where` selects (a constant SQL condition on `e`
 * with at most one parameter, $1), optionally of one attribute only. Instances, attribute types and
 * entity types are aggregated apart so that one does not multiply the other's rows.
 */
async function summarise(
  tx: Queryable,
  where: { sql: string; param?: string },
  onlyAttribute?: string,
): Promise<AttributeSummary[]> {
  const params: string[] = where.param === undefined ? [] : [where.param];
  let keyCondition = '';
  if (onlyAttribute !== undefined) {
    params.push(onlyAttribute);
    keyCondition = `and a.key = $${params.length}`;
  }
  const { rows } = await tx.query<{
    name: string;
    count: number;
    attr_types: string[];
    type_names: string[];
  }>(
    `with hit as (
       select e.types, a.key, a.value
         from broker.entities e cross join lateral jsonb_each(e.attrs) as a
        where ${where.sql} ${keyCondition}
     )
     select c.key as name, c.count, t.attr_types, n.type_names
       from (select key, sum(jsonb_array_length(value))::int as count from hit group by key) as c
       join (select key, array_agg(distinct i->>'type' order by i->>'type') as attr_types
               from hit cross join jsonb_array_elements(value) as i group by key) as t using (key)
       join (select key, array_agg(distinct tn order by tn) as type_names
               from hit cross join unnest(types) as tn group by key) as n using (key)
      order by c.key`,
    params,
  );
  return rows.map((r) => ({
    name: r.name,
    count: r.count,
    attributeTypes: r.attr_types,
    typeNames: r.type_names,
  }));
}

/** Entity count and attribute details of one type (§5.7.7); undefined when no entity has it. */
export async function describeType(tx: Queryable, type: string): Promise<TypeSummary | undefined> {
  const { rows } = await tx.query<{ n: number }>(
    'select count(*)::int as n from broker.entities e where e.types @> array[$1::text]',
    [type],
  );
  const entityCount = rows[0]?.n ?? 0;
  if (entityCount === 0) {
    return undefined;
  }
  const attributes = await summarise(tx, { sql: 'e.types @> array[$1::text]', param: type });
  return { entityCount, attributes };
}

/** Details of every attribute (§5.7.8, `details=true`). */
export function describeAttributes(tx: Queryable): Promise<AttributeSummary[]> {
  return summarise(tx, { sql: 'true' });
}

/** Details of one attribute (§5.7.10); undefined when no entity has it. */
export async function describeAttribute(tx: Queryable, name: string): Promise<AttributeSummary | undefined> {
  const [summary] = await summarise(
    tx,
    { sql: 'broker.attr_names(e.attrs) @> array[$1::text]', param: name },
    name,
  );
  return summary;
}
