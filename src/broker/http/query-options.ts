/**
 * Reads the query parameters shared by entity retrieval and queries (ETSI GS CIM 009 §6.3.7–6.3.x):
 * options, format, attrs, pick, omit, lang, limit, offset, count.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import type { Format, RenderOptions } from '../entities/render-entity.ts';
import { InvalidRequest, TooManyResults } from '../errors.ts';

export type QueryParams = Record<string, string | undefined>;

const OPTIONS = new Set([
  'keyValues',
  'simplified',
  'concise',
  'normalized',
  'sysAttrs',
  'noOverwrite',
  'replace',
  'update',
]);

export function listParam(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

/** A list parameter that, when present, must name something (`type=` or `type=,` is a mistake). */
export function nonEmptyListParam(name: string, value: string | undefined): string[] {
  const list = listParam(value);
  if (value !== undefined && list.length === 0) {
    throw new InvalidRequest(`${name} is given but names nothing`);
  }
  return list;
}

export function parseOptions(params: QueryParams): Set<string> {
  const options = new Set(listParam(params.options));
  for (const option of options) {
    if (!OPTIONS.has(option)) {
      throw new InvalidRequest(`options=${option} is not known; use ${[...OPTIONS].join(', ')}`);
    }
  }
  return options;
}

function formatOf(params: QueryParams, options: Set<string>): Format {
  const format = params.format;
  if (format !== undefined) {
    if (format === 'keyValues' || format === 'simplified') return 'keyValues';
    if (format === 'concise' || format === 'normalized') return format;
    throw new InvalidRequest(
      `format=${format} is not known; use normalized, concise, keyValues or simplified`,
    );
  }
  if (options.has('keyValues') || options.has('simplified')) return 'keyValues';
  if (options.has('concise')) return 'concise';
  return 'normalized';
}

function expandedSet(names: string[], ctx: ActiveContext): Set<string> | undefined {
  return names.length ? new Set(names.map((n) => ctx.expand(n))) : undefined;
}

/** How entities are rendered; `attrs` and `pick` both select attributes (id and type always stay). */
export function renderOptions(params: QueryParams, ctx: ActiveContext): RenderOptions {
  const options = parseOptions(params);
  if (params.attrs !== undefined && params.pick !== undefined) {
    throw new InvalidRequest('use attrs or pick, not both');
  }
  const selected = nonEmptyListParam(
    params.attrs === undefined ? 'pick' : 'attrs',
    params.attrs ?? params.pick,
  ).filter((a) => a !== 'id' && a !== 'type');
  return {
    format: formatOf(params, options),
    sysAttrs: options.has('sysAttrs'),
    attrs: expandedSet(selected, ctx),
    omit: expandedSet(nonEmptyListParam('omit', params.omit), ctx),
    lang: params.lang,
  };
}

function nonNegativeInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(value)) {
    throw new InvalidRequest(`${name} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function pageOptions(
  params: QueryParams,
  maxLimit: number,
): { limit: number; offset: number; count: boolean } {
  const limit = nonNegativeInteger('limit', params.limit, Math.min(20, maxLimit));
  const offset = nonNegativeInteger('offset', params.offset, 0);
  const count = params.count === 'true';
  if (params.count !== undefined && params.count !== 'true' && params.count !== 'false') {
    throw new InvalidRequest('count must be true or false');
  }
  if (limit > maxLimit) {
    throw new TooManyResults(`limit may be at most ${maxLimit}`);
  }
  if (limit === 0 && !count) {
    throw new InvalidRequest('limit=0 only makes sense with count=true');
  }
  return { limit, offset, count };
}
