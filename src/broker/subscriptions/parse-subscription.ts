/**
 * Reads a Subscription (ETSI GS CIM 009 §5.2.12) from a request body into its stored form, checking
 * every member with a precise message; entity type selections, q, scopeQ and geoQ go through the same
 * parsers and compilers as queries (§4.17, §4.9, §4.19, §4.10), so a subscription can hold only what
 * a query could.
 */
import type { ActiveContext, ContextRef } from '../context/json-ld.ts';
import { assertUri } from '../entities/parse-entity.ts';
import { BadRequestData } from '../errors.ts';
import { compileGeoQuery, DEFAULT_GEOPROPERTY, parseGeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { parseScopeQ } from '../query/scope-q.ts';
import { SqlParams } from '../query/sql-params.ts';
import { parseTypeSelection, typeSelector } from '../query/type-expr.ts';
import {
  DEFAULT_TRIGGERS,
  type EntitySelector,
  type GeoQText,
  type SubscriptionSpec,
  TRIGGERS,
  type Trigger,
} from './model.ts';
import { optionalBoolean, parseAttributeList, parseNotification } from './parse-notification.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Members the system sets (§5.2.12 "provided by the system"): a client's values are ignored. */
const READ_ONLY = new Set(['@context', 'status', 'createdAt', 'modifiedAt']);
const READ_ONLY_NOTIFICATION = new Set([
  'status',
  'timesSent',
  'timesFailed',
  'lastNotification',
  'lastSuccess',
  'lastFailure',
  'lastErrorReason',
]);

export interface ParseOptions {
  /** Refuse an expiresAt in the past (on create, and on an update that sets it). */
  checkExpiry: boolean;
  now?: number;
}

/** The members to keep as written: everything the subscriber may set, without the system's members. */
export function writtenMembers(raw: Json): Json {
  const body: Json = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!READ_ONLY.has(key)) {
      body[key] = value;
    }
  }
  if (isObject(body.notification)) {
    body.notification = Object.fromEntries(
      Object.entries(body.notification).filter(([key]) => !READ_ONLY_NOTIFICATION.has(key)),
    );
  }
  return body;
}

/** §5.8.2: a fragment's members replace the subscription's; `notification` is merged one level down. */
export function mergeFragment(body: Json, fragment: Json): Json {
  const merged: Json = { ...body, ...writtenMembers(fragment) };
  if (isObject(body.notification) && isObject(fragment.notification)) {
    merged.notification = { ...body.notification, ...(writtenMembers(fragment).notification as Json) };
  }
  return merged;
}

export function parseSubscription(
  raw: unknown,
  ctx: ActiveContext,
  context: ContextRef[],
  options: ParseOptions,
): SubscriptionSpec {
  if (!isObject(raw)) {
    throw new BadRequestData('a subscription must be a JSON object');
  }
  if (raw.type !== undefined && raw.type !== 'Subscription') {
    throw new BadRequestData(`type must be "Subscription", got ${JSON.stringify(raw.type)}`);
  }
  const body = writtenMembers(raw);
  const expansions: Record<string, string> = {};
  const recording = recordingContext(ctx, expansions);
  const spec: SubscriptionSpec = {
    id: assertUri(raw.id, 'id'),
    body,
    context,
    entities: parseEntities(raw.entities, ctx),
    watchedAttributes: parseAttributeList(raw.watchedAttributes, 'watchedAttributes', ctx),
    triggers: parseTriggers(raw.notificationTrigger),
    q: parseSubscriptionQ(raw.q, recording),
    scopeQ: parseSubscriptionScopeQ(raw.scopeQ),
    geoQ: parseSubscriptionGeoQ(raw.geoQ, recording),
    expansions,
    timeInterval: positiveNumber(raw.timeInterval, 'timeInterval'),
    throttling: positiveNumber(raw.throttling, 'throttling'),
    expiresAt: parseExpiry(raw.expiresAt, options),
    isActive: raw.isActive === undefined ? true : optionalBoolean(raw.isActive, 'isActive'),
    notification: parseNotification(raw.notification, ctx),
    lang: optionalString(raw.lang, 'lang'),
    jsonldContext:
      raw.jsonldContext === undefined ? undefined : assertUri(raw.jsonldContext, 'jsonldContext'),
  };
  optionalString(raw.subscriptionName, 'subscriptionName');
  optionalString(raw.description, 'description');
  checkCombination(spec, raw);
  return spec;
}

/** Remembers every term it expands, so the change hook can compile q and geoQ without the @context. */
function recordingContext(ctx: ActiveContext, expansions: Record<string, string>): ActiveContext {
  return {
    user: ctx.user,
    compact: ctx.compact,
    expand(term) {
      const iri = ctx.expand(term);
      expansions[term] = iri;
      return iri;
    },
  };
}

/** §5.8.1: entities or watchedAttributes; timeInterval excludes watchedAttributes, throttling and triggers. */
function checkCombination(spec: SubscriptionSpec, raw: Json): void {
  if (!spec.entities && !spec.watchedAttributes) {
    throw new BadRequestData('a subscription needs entities, watchedAttributes, or both');
  }
  if (spec.timeInterval !== undefined) {
    for (const member of ['watchedAttributes', 'throttling', 'notificationTrigger']) {
      if (raw[member] !== undefined) {
        throw new BadRequestData(`timeInterval (periodic notification) cannot be combined with ${member}`);
      }
    }
  }
}

function parseEntities(value: unknown, ctx: ActiveContext): EntitySelector[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequestData('entities must be a non-empty array of {"type": …, "id"?: …, "idPattern"?: …}');
  }
  return value.map((item, index) => {
    if (!isObject(item) || typeof item.type !== 'string') {
      throw new BadRequestData(`entities[${index}] must be an object with a type`);
    }
    const selector: EntitySelector = typeSelector(
      parseTypeSelection(item.type, ctx.expand, `entities[${index}].type`),
    );
    if (item.id !== undefined) selector.id = assertUri(item.id, `entities[${index}].id`);
    if (item.idPattern !== undefined) selector.idPattern = checkedPattern(item.idPattern, index);
    return selector;
  });
}

function checkedPattern(pattern: unknown, index: number): string {
  if (typeof pattern !== 'string') {
    throw new BadRequestData(`entities[${index}].idPattern must be a string`);
  }
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new BadRequestData(
      `entities[${index}].idPattern is not a valid regular expression: ${(error as Error).message}`,
    );
  }
  return pattern;
}

function parseTriggers(value: unknown): Trigger[] {
  if (value === undefined) {
    return DEFAULT_TRIGGERS;
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequestData('notificationTrigger must be a non-empty array');
  }
  for (const trigger of value) {
    if (!TRIGGERS.includes(trigger)) {
      throw new BadRequestData(
        `notificationTrigger ${JSON.stringify(trigger)} is not one of ${TRIGGERS.join(', ')}`,
      );
    }
  }
  return [...new Set(value as Trigger[])];
}

/** Parsed and compiled once here, so that a q the change hook cannot run is refused now. */
function parseSubscriptionQ(value: unknown, ctx: ActiveContext): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadRequestData('q must be a non-empty string in the NGSI-LD query language');
  }
  compileQ(parseQ(value), { params: new SqlParams(), expand: ctx.expand });
  return value;
}

/** Parsed here so that a scopeQ the change hook cannot run is refused now; kept as written. */
function parseSubscriptionScopeQ(value: unknown): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new BadRequestData('scopeQ must be a string in the scope query language, e.g. "/Miyagi/#"');
  }
  parseScopeQ(value);
  return value;
}

function parseSubscriptionGeoQ(value: unknown, ctx: ActiveContext): GeoQText | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!isObject(value)) {
    throw new BadRequestData('geoQ must be an object with georel, geometry and coordinates');
  }
  const geoQ = {
    georel: value.georel,
    geometry: value.geometry,
    coordinates: value.coordinates,
    geoproperty: value.geoproperty ?? DEFAULT_GEOPROPERTY,
  };
  for (const member of ['georel', 'geometry', 'geoproperty'] as const) {
    if (typeof geoQ[member] !== 'string') {
      throw new BadRequestData(`geoQ.${member} must be a string`);
    }
  }
  const parsed = parseGeoQuery(geoQ as GeoQText);
  if (!parsed) {
    throw new BadRequestData('geoQ needs georel, geometry and coordinates');
  }
  compileGeoQuery(parsed, { params: new SqlParams(), expand: ctx.expand });
  return geoQ as GeoQText;
}

/** The `~=` patterns of a q, which PostgreSQL alone can check (the routes run them once). */
export function qPatterns(expr: QExpr): string[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.items.flatMap(qPatterns);
    case 'match':
      return [expr.pattern];
    default:
      return [];
  }
}

function positiveNumber(value: unknown, what: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BadRequestData(`${what} must be a number of seconds greater than 0`);
  }
  return value;
}

function parseExpiry(value: unknown, options: ParseOptions): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new BadRequestData(`expiresAt must be a DateTime (ISO 8601), got ${JSON.stringify(value)}`);
  }
  if (options.checkExpiry && Date.parse(value) <= (options.now ?? Date.now())) {
    throw new BadRequestData(`expiresAt ${value} is in the past`);
  }
  return new Date(value).toISOString();
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    throw new BadRequestData(`${what} must be a string`);
  }
  return value;
}
