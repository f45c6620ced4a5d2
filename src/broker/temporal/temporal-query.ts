/**
 * Reads the temporal query parameters (ETSI GS CIM 009 §4.11, §6.3.x; aggregation §4.5.19):
 * timerel, timeAt, endTimeAt, timeproperty, lastN, options/format temporalValues|aggregatedValues,
 * aggrMethods, aggrPeriodDuration. A wrong parameter is an InvalidRequest naming it, before any SQL.
 */
import { InvalidRequest } from '../errors.ts';
import { listParam, type QueryParams } from '../http/query-options.ts';

export type Timerel = 'before' | 'after' | 'between';
export type TimeProperty = 'observedAt' | 'createdAt' | 'modifiedAt' | 'deletedAt';
export type TemporalFormat = 'normalized' | 'temporalValues' | 'aggregatedValues';

export const AGGREGATION_METHODS = [
  'totalCount',
  'distinctCount',
  'sum',
  'avg',
  'min',
  'max',
  'stddev',
  'sumsq',
] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

export interface TimeFilter {
  timerel?: Timerel;
  /** ISO 8601 UTC instants; `end` only with between. */
  timeAt?: string;
  endTimeAt?: string;
  property: TimeProperty;
}

export interface TemporalQuery {
  time: TimeFilter;
  lastN?: number;
  format: TemporalFormat;
  sysAttrs: boolean;
  aggregation?: { methods: AggregationMethod[]; period?: string };
}

const TIMERELS = new Set<string>(['before', 'after', 'between']);
const TIME_PROPERTIES = new Set<string>(['observedAt', 'createdAt', 'modifiedAt', 'deletedAt']);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
/** ISO 8601 durations as §4.5.19 allows them: P[n]Y[n]M[n]W[n]DT[n]H[n]M[n]S, no combined forms. */
const DURATION =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const OPTIONS = new Set(['temporalValues', 'aggregatedValues', 'sysAttrs', 'normalized']);

function instant(name: string, value: string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidRequest(
      `${name} must be an ISO 8601 date and time with a zone, e.g. 2026-11-24T09:00:00Z; got ${JSON.stringify(value)}`,
    );
  }
  return new Date(value).toISOString();
}

/** timerel with the times it needs (§4.11): before/after need timeAt; between needs timeAt < endTimeAt. */
export function parseTimeFilter(params: QueryParams): TimeFilter {
  const property = params.timeproperty ?? 'observedAt';
  if (!TIME_PROPERTIES.has(property)) {
    throw new InvalidRequest(
      `timeproperty ${JSON.stringify(property)} is not known; use observedAt, createdAt, modifiedAt or deletedAt`,
    );
  }
  const filter: TimeFilter = { property: property as TimeProperty };
  const timeAt = instant('timeAt', params.timeAt);
  const endTimeAt = instant('endTimeAt', params.endTimeAt);
  if (params.timerel === undefined) {
    if (timeAt || endTimeAt) {
      throw new InvalidRequest('timeAt and endTimeAt need timerel (before, after or between)');
    }
    return filter;
  }
  if (!TIMERELS.has(params.timerel)) {
    throw new InvalidRequest(
      `timerel ${JSON.stringify(params.timerel)} is not valid; use before, after or between`,
    );
  }
  const timerel = params.timerel as Timerel;
  if (!timeAt) {
    throw new InvalidRequest(`timerel=${timerel} needs timeAt`);
  }
  if (timerel === 'between') {
    if (!endTimeAt) {
      throw new InvalidRequest('timerel=between needs endTimeAt');
    }
    if (endTimeAt <= timeAt) {
      throw new InvalidRequest('endTimeAt must be later than timeAt');
    }
    return { ...filter, timerel, timeAt, endTimeAt };
  }
  if (endTimeAt) {
    throw new InvalidRequest(`endTimeAt is only for timerel=between, not ${timerel}`);
  }
  return { ...filter, timerel, timeAt };
}

/**
 * An ISO 8601 duration as a PostgreSQL interval literal, or undefined for a zero duration, which
 * §4.5.19 defines as the whole interval of the query. Months and years stay calendar units.
 */
export function parseDuration(text: string): string | undefined {
  const match = DURATION.exec(text);
  if (!match) {
    throw new InvalidRequest(
      `aggrPeriodDuration ${JSON.stringify(text)} is not an ISO 8601 duration such as PT1H, P1D or P1M`,
    );
  }
  const units = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'];
  const parts = match
    .slice(1)
    .map((n, i) => (n !== undefined && Number(n) > 0 ? `${n} ${units[i]}` : ''))
    .filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

function parseAggregation(params: QueryParams, aggregated: boolean): TemporalQuery['aggregation'] {
  if (params.aggrMethods === undefined) {
    if (aggregated) {
      throw new InvalidRequest('the aggregated representation needs aggrMethods (§4.5.19)');
    }
    if (params.aggrPeriodDuration !== undefined) {
      throw new InvalidRequest('aggrPeriodDuration needs aggrMethods');
    }
    return undefined;
  }
  const methods = listParam(params.aggrMethods);
  if (methods.length === 0) {
    throw new InvalidRequest(`aggrMethods must list one or more of ${AGGREGATION_METHODS.join(', ')}`);
  }
  for (const method of methods) {
    if (!(AGGREGATION_METHODS as readonly string[]).includes(method)) {
      throw new InvalidRequest(
        `aggrMethods ${JSON.stringify(method)} is not known; use ${AGGREGATION_METHODS.join(', ')}`,
      );
    }
  }
  const period =
    params.aggrPeriodDuration === undefined ? undefined : parseDuration(params.aggrPeriodDuration);
  return { methods: [...new Set(methods)] as AggregationMethod[], period };
}

function parseLastN(value: string | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new InvalidRequest(`lastN must be a whole number ≥ 1, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function parseFormat(params: QueryParams, options: Set<string>): TemporalFormat {
  const format = params.format ?? [...options].find((o) => o !== 'sysAttrs') ?? 'normalized';
  if (format !== 'normalized' && format !== 'temporalValues' && format !== 'aggregatedValues') {
    throw new InvalidRequest(
      `format=${format} is not offered by the temporal API; use normalized, temporalValues or aggregatedValues`,
    );
  }
  return format;
}

export function parseTemporalQuery(params: QueryParams): TemporalQuery {
  const options = new Set(listParam(params.options));
  for (const option of options) {
    if (!OPTIONS.has(option)) {
      throw new InvalidRequest(
        `options=${option} is not offered by the temporal API; use ${[...OPTIONS].join(', ')}`,
      );
    }
  }
  if (options.has('temporalValues') && options.has('aggregatedValues')) {
    throw new InvalidRequest('use temporalValues or aggregatedValues, not both');
  }
  let format = parseFormat(params, options);
  const aggregation = parseAggregation(params, format === 'aggregatedValues');
  // aggrMethods alone asks for the aggregated representation; nothing else could use it.
  if (aggregation) {
    if (format === 'temporalValues') {
      throw new InvalidRequest('aggrMethods goes with the aggregated representation, not temporalValues');
    }
    format = 'aggregatedValues';
  }
  return {
    time: parseTimeFilter(params),
    lastN: parseLastN(params.lastN),
    format,
    sysAttrs: options.has('sysAttrs'),
    aggregation,
  };
}
