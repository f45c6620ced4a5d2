/**
 * NGSI-LD geo-queries (ETSI GS CIM 009 clause 4.10): `georel`, `geometry`, `coordinates` and
 * `geoproperty` parsed into a GeoQuery, then compiled to a PostGIS boolean expression over the entity
 * row `e`. Geometries are read from `broker.geo` (one row per GeoProperty instance, see the broker
 * README), never from `e.attrs`, so that a spatial index can serve the query.
 *
 * What an index can serve at a million rows of broker.geo (the indexes are proposed with the broker
 * migration; this file only writes SQL that they match):
 * - within, contains, intersects, equals, overlaps: PostGIS's support functions add a bounding-box
 *   operator (`&&`, `@`, `~`) that a GiST index on `geom` answers; GEOS then checks the few
 *   candidates, with the reference geometry prepared once per statement.
 * - near;maxDistance: `ST_DWithin` on geography adds `&&` against the reference expanded by the
 *   distance, which a GiST index on the expression `(geom::geography)` answers; the SQL below spells
 *   the cast exactly as that index does. A geometry index with a degree box computed from the
 *   metres was the alternative, but geography edges are great circles that bow poleward out of their
 *   lon/lat box and may cross the antimeridian, so such a box can lose true matches.
 * - near;minDistance and disjoint match what is far away, usually most rows: no index helps, and
 *   they scan the rows of the attribute. They are written as `not ST_DWithin` and `not
 *   ST_Intersects` (the same sets by definition) because those use PostGIS's cached, prepared form
 *   of the reference geometry, where ST_Disjoint does not.
 * The join back to the entity (`tenant_id`, `entity_id`) lets the planner either probe broker.geo
 * per entity row or scan it through the spatial index first and semi-join, whichever is cheaper.
 */
import { InvalidRequest } from '../errors.ts';
import { GEOMETRY_TYPES, type Geometry, isGeometryType, validateCoordinates } from './geo-json.ts';
import type { SqlParams } from './sql-params.ts';

/** The relations of clause 4.10 other than near, each with OGC Simple Features meaning ([14] there). */
export type TopologicalRelation = 'within' | 'contains' | 'intersects' | 'equals' | 'disjoint' | 'overlaps';

export type Georel =
  | { relation: 'near'; distance: 'maxDistance' | 'minDistance'; metres: number }
  | { relation: TopologicalRelation };

export interface GeoQuery {
  georel: Georel;
  /** The reference geometry. */
  geometry: Geometry;
  /** The target GeoProperty as the client named it, expanded with the request's @context when compiled. */
  geoproperty: string;
}

export interface GeoQueryParams {
  georel?: string;
  geometry?: string;
  /** JSON text from a query string, or already an array (a POST query body, a subscription's geoQ). */
  coordinates?: unknown;
  geoproperty?: string;
}

const TOPOLOGICAL: readonly TopologicalRelation[] = [
  'within',
  'contains',
  'intersects',
  'equals',
  'disjoint',
  'overlaps',
];

const VALID_GEORELS = `near;maxDistance==<metres>, near;minDistance==<metres>, ${TOPOLOGICAL.join(', ')}`;

/** The target GeoProperty when none is named (clause 4.10, and 4.7.1 for `location`). */
export const DEFAULT_GEOPROPERTY = 'location';

/** JSON text longer than the largest geometry we accept is refused before parsing it. */
const MAX_COORDINATES_TEXT = 4_000_000;

/** `undefined` when the request has no geo-query; throws when it has part of one or a malformed one. */
export function parseGeoQuery(params: GeoQueryParams): GeoQuery | undefined {
  const { georel, geometry, coordinates, geoproperty } = params;
  if (georel === undefined && geometry === undefined && coordinates === undefined) {
    if (geoproperty !== undefined) {
      throw new InvalidRequest(
        'geoproperty names the target of a geo-query, but georel, geometry and coordinates are missing',
      );
    }
    return undefined;
  }
  const missing = Object.entries({ georel, geometry, coordinates })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);
  // The two comparisons after `missing` only narrow the types for what follows.
  if (missing.length > 0 || georel === undefined || geometry === undefined) {
    throw new InvalidRequest(
      `a geo-query needs georel, geometry and coordinates together; missing: ${missing.join(', ')}`,
    );
  }
  return {
    georel: parseGeorel(georel),
    geometry: parseReferenceGeometry(geometry, coordinates),
    geoproperty: parseGeoproperty(geoproperty),
  };
}

/** The ABNF of clause 4.10: `near;maxDistance==N`, `near;minDistance==N` (one, not both), or a bare relation. */
export function parseGeorel(text: unknown): Georel {
  if (typeof text !== 'string') {
    throw new InvalidRequest(`georel must be a string; expected one of ${VALID_GEORELS}`);
  }
  const [relation = '', ...modifiers] = text.split(';');
  if (relation === 'near') {
    return parseNear(modifiers);
  }
  if (TOPOLOGICAL.includes(relation as TopologicalRelation)) {
    if (modifiers.length > 0) {
      throw new InvalidRequest(`georel ${relation} takes no modifier, got ${quote(text)}`);
    }
    return { relation: relation as TopologicalRelation };
  }
  throw new InvalidRequest(`georel ${quote(text)} is not valid; expected one of ${VALID_GEORELS}`);
}

function parseNear(modifiers: string[]): Georel {
  if (modifiers.length === 0) {
    throw new InvalidRequest(
      'georel near needs a distance: near;maxDistance==<metres> or near;minDistance==<metres>',
    );
  }
  // nearRel = nearOp andOp distance equal PositiveNumber: the grammar has room for one modifier only.
  if (modifiers.length > 1) {
    throw new InvalidRequest('georel near takes exactly one of maxDistance and minDistance');
  }
  const match = /^(maxDistance|minDistance)==(.*)$/.exec(modifiers[0] ?? '');
  if (!match) {
    throw new InvalidRequest(
      `georel near has an unknown modifier ${quote(modifiers[0])}; expected maxDistance==<metres> or minDistance==<metres>`,
    );
  }
  const distance = match[1] as 'maxDistance' | 'minDistance';
  return { relation: 'near', distance, metres: parsePositiveNumber(match[2] ?? '', distance) };
}

/**
 * Clause 4.10's PositiveNumber: an RFC 8259 number without the minus sign, and not 0. Stricter than
 * Number(), which would take "0x10", " 5", "Infinity" and "".
 */
function parsePositiveNumber(text: string, name: string): number {
  const metres = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/.test(text)
    ? Number(text)
    : Number.NaN;
  if (!(metres > 0 && Number.isFinite(metres))) {
    throw new InvalidRequest(
      `georel near: ${name} must be a number of metres greater than 0, got ${quote(text)}`,
    );
  }
  return metres;
}

function parseReferenceGeometry(geometry: unknown, coordinates: unknown): Geometry {
  if (!isGeometryType(geometry)) {
    throw new InvalidRequest(
      `geometry ${quote(geometry)} is not valid; expected one of ${GEOMETRY_TYPES.join(', ')} (case-sensitive; clause 4.10 excludes GeometryCollection)`,
    );
  }
  return validateCoordinates(geometry, parseCoordinates(coordinates), 'coordinates');
}

/** A query string carries JSON text; a body has the array itself. Shape errors are the validator's. */
function parseCoordinates(coordinates: unknown): unknown {
  if (typeof coordinates !== 'string') {
    return coordinates;
  }
  if (coordinates.length > MAX_COORDINATES_TEXT) {
    throw new InvalidRequest(`coordinates is longer than ${MAX_COORDINATES_TEXT} characters`);
  }
  try {
    return JSON.parse(coordinates);
  } catch {
    throw new InvalidRequest(
      `coordinates must be a JSON array such as [140.8694,38.2682], got ${quote(coordinates)}`,
    );
  }
}

function parseGeoproperty(geoproperty: unknown): string {
  if (geoproperty === undefined) {
    return DEFAULT_GEOPROPERTY;
  }
  if (typeof geoproperty !== 'string' || !/^\S+$/.test(geoproperty)) {
    throw new InvalidRequest(`geoproperty must be an attribute name, got ${quote(geoproperty)}`);
  }
  return geoproperty;
}

/**
 * A SQL boolean over the entity row `e`: true when some instance of the target GeoProperty stands in
 * the relation to the reference geometry. An entity without that GeoProperty never matches, not even
 * `disjoint` or `minDistance` (clause 4.10). Of a multi-attribute, any one instance suffices, as the
 * q-language treats instances; so an entity with one instance inside and one outside an area
 * matches both `intersects` and `disjoint` that area.
 */
export function compileGeoQuery(
  q: GeoQuery,
  ctx: { params: SqlParams; expand: (term: string) => string },
): string {
  const attr = ctx.params.add(ctx.expand(q.geoproperty));
  // Validated GeoJSON has no crs, so PostGIS reads it as 4326 already; the SRID is set so it never depends on that.
  const reference = `ST_SetSRID(ST_GeomFromGeoJSON(${ctx.params.add(JSON.stringify(q.geometry))}::text), 4326)`;
  const relation = relationSql(q.georel, reference, ctx.params);
  // The view broker.geo_in_tenant (migration 005) lets the spatial index serve the relation. Where the
  // index can narrow the candidates, they are collected once and the entities looked up by id; a
  // negative relation (disjoint, minDistance) matches most entities, so it is tested per entity.
  const candidates = `select g.entity_id from broker.geo_in_tenant g where g.attr = ${attr} and ${relation}`;
  if (isNegative(q.georel)) {
    return `exists (${candidates} and g.tenant_id = e.tenant_id and g.entity_id = e.id)`;
  }
  return `e.id = any(array(${candidates}))`;
}

function isNegative(georel: Georel): boolean {
  return georel.relation === 'disjoint' || (georel.relation === 'near' && georel.distance === 'minDistance');
}

/**
 * The target (`g.geom`) always comes first: clause 4.10 reads "the target geometry shall be within
 * the reference geometry", so `within` finds entities inside the query's area and `contains` finds
 * entities whose area holds the query's geometry. The topological relations are evaluated in the
 * lon/lat plane, as RFC 7946 section 3.1.1 defines lines between positions to be straight there.
 */
function relationSql(georel: Georel, reference: string, params: SqlParams): string {
  switch (georel.relation) {
    case 'near': {
      // Metres need geography (on the WGS 84 spheroid). maxDistance: some point of the target lies
      // within that distance, which for a point target is the spec's "within the buffer";
      // minDistance: the target is disjoint from the buffer, exactly as the spec puts it.
      const dwithin = `ST_DWithin(g.geom::geography, ${reference}::geography, ${params.add(georel.metres)}::float8)`;
      return georel.distance === 'maxDistance' ? dwithin : `not ${dwithin}`;
    }
    case 'within':
      return `ST_Within(g.geom, ${reference})`;
    case 'contains':
      return `ST_Contains(g.geom, ${reference})`;
    case 'intersects':
      return `ST_Intersects(g.geom, ${reference})`;
    case 'equals':
      return `ST_Equals(g.geom, ${reference})`;
    case 'disjoint':
      return `not ST_Intersects(g.geom, ${reference})`;
    case 'overlaps':
      return `ST_Overlaps(g.geom, ${reference})`;
  }
}

/** A client value quoted for an error message, cut short so that a message stays readable. */
function quote(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
