/**
 * Renders history (ETSI GS CIM 009): the temporal representation (§4.5.7: each attribute an array
 * of its instances, each with its instanceId), the simplified one (§4.5.9, options=temporalValues:
 * `values: [[value, time], …]` per series) and the aggregated one (§4.5.19: `avg: [[value, start,
 * end], …]` per method). Names and types are compacted with the request's @context.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { type AttributeType, VALUE_MEMBER } from '../entities/model.ts';
import { renderAttributes } from '../entities/render-entity.ts';
import type { AggregateRow } from './aggregate.ts';
import type { InstanceRow, TemporalEntityRow } from './history-store.ts';
import type { AggregationMethod } from './temporal-query.ts';

type Json = Record<string, unknown>;

/** NGSI-LD Null (§4.5.7 in 1.8): the value of an instance that marks a deletion. */
const NGSI_LD_NULL = 'urn:ngsi-ld:null';

/** The simplified representation's member for each attribute type (§4.5.9). */
const SERIES_MEMBER: Record<AttributeType, string> = {
  Property: 'values',
  GeoProperty: 'values',
  Relationship: 'objects',
  LanguageProperty: 'languageMaps',
  VocabProperty: 'vocabs',
  JsonProperty: 'jsons',
  ListProperty: 'valueLists',
  ListRelationship: 'objectLists',
};

/** id, type and scope of a temporal entity (with sysAttrs its own timestamps). */
export function entityHead(entity: TemporalEntityRow, ctx: ActiveContext, sysAttrs: boolean): Json {
  const types = entity.types.map((t) => ctx.compact(t));
  const out: Json = { id: entity.id, type: types.length === 1 ? types[0] : types };
  if (entity.scopes) out.scope = entity.scopes.length === 1 ? entity.scopes[0] : entity.scopes;
  if (sysAttrs) {
    out.createdAt = entity.created_at.toISOString();
    out.modifiedAt = entity.modified_at.toISOString();
    if (entity.deleted_at) out.deletedAt = entity.deleted_at.toISOString();
  }
  return out;
}

/** Groups rows by attribute, keeping their order. */
function byAttribute<T extends { attr: string }>(rows: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.attr) ?? [];
    list.push(row);
    groups.set(row.attr, list);
  }
  return groups;
}

function renderInstance(row: InstanceRow, ctx: ActiveContext, sysAttrs: boolean): Json {
  if (row.deleted_at) {
    const type = row.value.type;
    const out: Json = { type, [VALUE_MEMBER[type]]: NGSI_LD_NULL };
    if (row.value.datasetId) out.datasetId = row.value.datasetId;
    out.deletedAt = row.deleted_at.toISOString();
    out.instanceId = row.instance_id;
    return out;
  }
  const rendered = renderAttributes({ [row.attr]: [row.value] }, ctx, { format: 'normalized', sysAttrs });
  return { ...(Object.values(rendered)[0] as Json), instanceId: row.instance_id };
}

/** §4.5.7: every instance of each attribute, oldest first. */
export function renderTemporal(
  entity: TemporalEntityRow,
  rows: InstanceRow[],
  ctx: ActiveContext,
  sysAttrs: boolean,
): Json {
  const out = entityHead(entity, ctx, sysAttrs);
  for (const [attr, instances] of byAttribute(rows)) {
    out[ctx.compact(attr)] = instances.map((row) => renderInstance(row, ctx, sysAttrs));
  }
  return out;
}

/** A single series alone, several (one per datasetId) as an array, as §4.5.7 shows multi-attributes. */
function oneOrMany(series: Json[]): Json | Json[] {
  return series.length === 1 ? (series[0] as Json) : series;
}

function bySeries<T>(rows: T[], datasetOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = datasetOf(row);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

function simpleValue(row: InstanceRow, ctx: ActiveContext): unknown {
  if (row.deleted_at) {
    return NGSI_LD_NULL;
  }
  const rendered = renderAttributes({ [row.attr]: [row.value] }, ctx, {
    format: 'keyValues',
    sysAttrs: false,
  });
  return Object.values(rendered)[0];
}

/** §4.5.9: per series, its type and `[value, time]` pairs, time being the query's timeproperty. */
export function renderTemporalValues(
  entity: TemporalEntityRow,
  rows: InstanceRow[],
  ctx: ActiveContext,
): Json {
  const out = entityHead(entity, ctx, false);
  for (const [attr, instances] of byAttribute(rows)) {
    const series = [...bySeries(instances, (r) => r.value.datasetId ?? '')].map(([datasetId, list]) => {
      const type = (list[0] as InstanceRow).value.type;
      const rendered: Json = {
        type,
        [SERIES_MEMBER[type]]: list.map((r) => [simpleValue(r, ctx), r.t?.toISOString()]),
      };
      if (datasetId) rendered.datasetId = datasetId;
      return rendered;
    });
    out[ctx.compact(attr)] = oneOrMany(series);
  }
  return out;
}

/** §4.5.19: per series, for each method asked, `[value, periodStart, periodEnd]` per period. */
export function renderAggregated(
  entity: TemporalEntityRow,
  rows: AggregateRow[],
  methods: AggregationMethod[],
  ctx: ActiveContext,
): Json {
  const out = entityHead(entity, ctx, false);
  for (const [attr, periods] of byAttribute(rows)) {
    const series = [...bySeries(periods, (r) => r.dataset_id)].map(([datasetId, list]) => {
      const rendered: Json = { type: (list[0] as AggregateRow).type };
      for (const method of methods) {
        rendered[method] = list.map((p) => [p[method], p.ps.toISOString(), p.pe.toISOString()]);
      }
      if (datasetId) rendered.datasetId = datasetId;
      return rendered;
    });
    out[ctx.compact(attr)] = oneOrMany(series);
  }
  return out;
}
