/**
 * Reads the history of a page of temporal entities and renders it in the representation the query
 * asks for (§5.7.3, §5.7.4): one SQL statement for all the page's entities, not one per entity.
 */
import type { Queryable } from '../../platform/index.ts';
import type { ActiveContext } from '../context/json-ld.ts';
import { SqlParams } from '../query/sql-params.ts';
import { type AggregateRow, aggregateInstances } from './aggregate.ts';
import { type InstanceRow, selectInstances, type TemporalEntityRow } from './history-store.ts';
import { renderAggregated, renderTemporal, renderTemporalValues } from './render-temporal.ts';
import type { TemporalQuery } from './temporal-query.ts';

type Json = Record<string, unknown>;

function byEntity<T extends { entity_id: string }>(rows: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.entity_id);
    if (list) list.push(row);
    else groups.set(row.entity_id, [row]);
  }
  return groups;
}

export async function readHistories(
  tx: Queryable,
  entities: TemporalEntityRow[],
  query: TemporalQuery,
  attrs: string[] | undefined,
  ctx: ActiveContext,
): Promise<Json[]> {
  if (entities.length === 0) {
    return [];
  }
  const entityIds = entities.map((e) => e.id);
  const { aggregation } = query;
  if (aggregation) {
    const rows = byEntity<AggregateRow>(
      await aggregateInstances(tx, { entityIds, attrs, time: query.time, period: aggregation.period }),
    );
    return entities.map((e) => renderAggregated(e, rows.get(e.id) ?? [], aggregation.methods, ctx));
  }
  const rows = byEntity<InstanceRow>(
    await selectInstances(tx, new SqlParams(), { entityIds, attrs, time: query.time, lastN: query.lastN }),
  );
  return entities.map((e) =>
    query.format === 'temporalValues'
      ? renderTemporalValues(e, rows.get(e.id) ?? [], ctx)
      : renderTemporal(e, rows.get(e.id) ?? [], ctx, query.sysAttrs),
  );
}
