/**
 * The aggregated temporal representation (ETSI GS CIM 009 §4.5.19), computed in SQL: each series
 * (entity, attribute, datasetId) is cut into periods of aggrPeriodDuration and every method is
 * evaluated per period. Periods without instances are left out.
 */
import type { Queryable } from '../../platform/index.ts';
import { SqlParams } from '../query/sql-params.ts';
import { instanceWhere, TIME_COLUMN } from './history-store.ts';
import type { TimeFilter } from './temporal-query.ts';

export interface AggregateRow {
  entity_id: string;
  attr: string;
  dataset_id: string;
  type: string;
  ps: Date;
  pe: Date;
  totalCount: number;
  distinctCount: number;
  sum: number | null;
  avg: number | null;
  min: number | null;
  max: number | null;
  stddev: number | null;
  sumsq: number | null;
}

/** Whatever the instance's type, the member that holds its value. */
const VALUE = `coalesce(i.value -> 'value', i.value -> 'object', i.value -> 'languageMap', i.value -> 'vocab',
  i.value -> 'json', i.value -> 'valueList', i.value -> 'objectList')`;

/**
 * Where the periods start and the single period ends: the query's own bounds when it has them
 * (timeAt for after/between, endTimeAt or the before's timeAt), otherwise the series' first
 * instance and the time of the request.
 */
function bounds(time: TimeFilter, params: SqlParams): { start: string; end: string } {
  const hasStart = time.timerel === 'after' || time.timerel === 'between';
  const end =
    time.timerel === 'between' ? time.endTimeAt : time.timerel === 'before' ? time.timeAt : undefined;
  return {
    start: hasStart ? `${params.add(time.timeAt)}::timestamptz` : 'min(t)',
    end: end ? `${params.add(end)}::timestamptz` : 'now()',
  };
}

/**
 * The periods of every series: consecutive windows of `period` from the start (so P1M steps by
 * calendar months), or the whole interval when the duration is zero or absent (§4.5.19).
 */
function periodsSql(period: string | undefined, params: SqlParams): { periods: string; join: string } {
  if (period === undefined) {
    return { periods: 'select s.*, s.s as ps, s.e as pe from series s', join: '' };
  }
  const step = `${params.add(period)}::interval`;
  return {
    periods: `select s.*, p as ps, p + ${step} as pe from series s, generate_series(s.s, s.last, ${step}) as p`,
    join: 'and i.t >= p.ps and i.t < p.pe',
  };
}

/** Every aggregation method of §4.5.19 per period; the caller keeps the ones asked for. */
export async function aggregateInstances(
  tx: Queryable,
  query: { entityIds: string[]; attrs?: string[]; time: TimeFilter; period?: string },
): Promise<AggregateRow[]> {
  const params = new SqlParams();
  const where = instanceWhere(params, query.entityIds, query.attrs, query.time);
  const { start, end } = bounds(query.time, params);
  const { periods, join } = periodsSql(query.period, params);
  const { rows } = await tx.query<AggregateRow>(
    `with inst as (
       select i.entity_id, i.attr, i.dataset_id, i.value ->> 'type' as type, ${TIME_COLUMN[query.time.property]} as t,
              ${VALUE} as v
         from broker.attribute_instances i
        where ${where} and i.deleted_at is null),
     series as (
       select entity_id, attr, dataset_id, min(type) as type, ${start} as s, ${end} as e, max(t) as last
         from inst group by entity_id, attr, dataset_id),
     periods as (${periods})
     select p.entity_id, p.attr, p.dataset_id, p.type, p.ps, p.pe,
            count(*)::int as "totalCount", count(distinct i.v)::int as "distinctCount",
            sum(x.n)::float8 as sum, avg(x.n)::float8 as avg, min(x.n)::float8 as min,
            max(x.n)::float8 as max, stddev_samp(x.n)::float8 as stddev, sum(x.n * x.n)::float8 as sumsq
       from periods p
       join inst i on i.entity_id = p.entity_id and i.attr = p.attr and i.dataset_id = p.dataset_id ${join}
       cross join lateral (select case when jsonb_typeof(i.v) = 'number' then i.v::numeric end as n) as x
      group by p.entity_id, p.attr, p.dataset_id, p.type, p.ps, p.pe
      order by p.entity_id, p.attr, p.dataset_id, p.ps`,
    params.values,
  );
  return rows;
}
