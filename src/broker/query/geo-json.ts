/**
 * GeoJSON geometries (IETF RFC 7946) as NGSI-LD accepts them: the value of a GeoProperty on write
 * (ETSI GS CIM 009 clause 4.7.1) and the reference geometry of a geo-query (clause 4.10).
 * Strict on purpose: PostGIS accepts much that is not GeoJSON (a `crs`, empty geometries, rings that
 * cross themselves), and GEOS versions answer differently for such input, so PGlite and PostgreSQL
 * would disagree. What passes here is well formed and means the same on both engines.
 */
import { BadRequestData } from '../errors.ts';
import { findRingDefect } from './geo-rings.ts';

/** [longitude, latitude] or [longitude, latitude, altitude] in WGS 84 (RFC 7946 section 3.1.1, 4). */
export type Position = [number, number] | [number, number, number];

export interface Point {
  type: 'Point';
  coordinates: Position;
}
export interface MultiPoint {
  type: 'MultiPoint';
  coordinates: Position[];
}
export interface LineString {
  type: 'LineString';
  coordinates: Position[];
}
export interface MultiLineString {
  type: 'MultiLineString';
  coordinates: Position[][];
}
export interface Polygon {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPolygon {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}

/** Every GeoJSON geometry but GeometryCollection, which clauses 4.7.1 and 4.10 both exclude. */
export type Geometry = Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon;
export type GeometryType = Geometry['type'];

export const GEOMETRY_TYPES: readonly GeometryType[] = [
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
];

/** Bounds the work one request can cause here and in PostGIS; a detailed city boundary needs ~10 000. */
export const MAX_POSITIONS = 100_000;

export function isGeometryType(value: unknown): value is GeometryType {
  return GEOMETRY_TYPES.includes(value as GeometryType);
}

/**
 * Validates a GeoJSON geometry object and returns it reduced to `type` and `coordinates`, which is
 * what PostGIS should read (a `bbox` is checked, then dropped: PostGIS computes its own).
 * `where` names the value in error messages, e.g. `location.value`.
 */
export function validateGeometry(value: unknown, where: string): Geometry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(
      where,
      'a GeoJSON geometry must be an object with "type" and "coordinates" (RFC 7946 section 3.1)',
    );
  }
  const member = value as Record<string, unknown>;
  checkType(member.type, `${where}.type`);
  // RFC 7946 section 4 removed `crs`, but PostGIS still obeys it and would relabel the coordinates.
  if ('crs' in member) {
    throw fail(`${where}.crs`, 'not allowed: GeoJSON coordinates are always WGS 84 (RFC 7946 section 4)');
  }
  if ('geometries' in member) {
    throw fail(
      `${where}.geometries`,
      'only a GeometryCollection has geometries, and NGSI-LD does not allow one',
    );
  }
  if ('bbox' in member) {
    checkBbox(member.bbox, `${where}.bbox`);
  }
  if (!('coordinates' in member)) {
    throw fail(`${where}.coordinates`, 'missing');
  }
  return validateCoordinates(member.type as GeometryType, member.coordinates, `${where}.coordinates`);
}

/** Validates the `coordinates` of a geometry of a known type; `path` names them in error messages. */
export function validateCoordinates(type: GeometryType, coordinates: unknown, path: string): Geometry {
  const budget = { left: MAX_POSITIONS };
  const pos = (c: unknown, p: string) => position(c, p, budget);
  const line = (c: unknown, p: string) => lineString(c, p, budget);
  const poly = (c: unknown, p: string) => polygon(c, p, budget);
  switch (type) {
    case 'Point':
      return { type, coordinates: pos(coordinates, path) };
    case 'MultiPoint':
      return { type, coordinates: list(coordinates, path, 'a MultiPoint needs at least one position', pos) };
    case 'LineString':
      return { type, coordinates: line(coordinates, path) };
    case 'MultiLineString':
      return {
        type,
        coordinates: list(coordinates, path, 'a MultiLineString needs at least one line', line),
      };
    case 'Polygon':
      return { type, coordinates: poly(coordinates, path) };
    case 'MultiPolygon':
      return {
        type,
        coordinates: list(coordinates, path, 'a MultiPolygon needs at least one polygon', poly),
      };
  }
}

function checkType(type: unknown, path: string): void {
  if (type === 'GeometryCollection') {
    throw fail(path, 'a GeometryCollection is not allowed (ETSI GS CIM 009 clauses 4.7.1 and 4.10)');
  }
  if (!isGeometryType(type)) {
    throw fail(path, `must be one of ${GEOMETRY_TYPES.join(', ')} (case-sensitive), got ${show(type)}`);
  }
}

function checkBbox(bbox: unknown, path: string): void {
  const ok =
    Array.isArray(bbox) &&
    (bbox.length === 4 || bbox.length === 6) &&
    bbox.every((n) => typeof n === 'number' && Number.isFinite(n));
  if (!ok) {
    throw fail(path, 'must be an array of 4 or 6 numbers (RFC 7946 section 5)');
  }
}

/** An array with at least one member, each checked by `each` under its own index. */
function list<T>(
  value: unknown,
  path: string,
  emptyMessage: string,
  each: (v: unknown, p: string) => T,
): T[] {
  if (!Array.isArray(value)) {
    throw fail(path, `must be an array, got ${show(value)}`);
  }
  // An empty geometry would match nothing or everything depending on the predicate: refuse it.
  if (value.length === 0) {
    throw fail(path, emptyMessage);
  }
  return value.map((v, i) => each(v, `${path}[${i}]`));
}

function position(value: unknown, path: string, budget: { left: number }): Position {
  if (!Array.isArray(value)) {
    throw fail(path, `a position must be an array [longitude, latitude], got ${show(value)}`);
  }
  if (value.length < 2 || value.length > 3) {
    throw fail(
      path,
      `a position has 2 or 3 numbers (longitude, latitude, optional altitude), got ${value.length}`,
    );
  }
  budget.left -= 1;
  if (budget.left < 0) {
    throw fail(path, `a geometry may have at most ${MAX_POSITIONS} positions`);
  }
  value.forEach((n, i) => {
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw fail(`${path}[${i}]`, `must be a finite number, got ${show(n)}`);
    }
  });
  const [lon, lat] = value as [number, number];
  if (lon < -180 || lon > 180) {
    throw fail(`${path}[0]`, `longitude must be between -180 and 180, got ${lon}`);
  }
  if (lat < -90 || lat > 90) {
    throw fail(
      `${path}[1]`,
      `latitude must be between -90 and 90, got ${lat} (positions are [longitude, latitude])`,
    );
  }
  return value as Position;
}

function lineString(value: unknown, path: string, budget: { left: number }): Position[] {
  const points = list(value, path, 'a LineString needs at least two positions', (v, p) =>
    position(v, p, budget),
  );
  if (points.length < 2) {
    throw fail(path, 'a LineString needs at least two positions (RFC 7946 section 3.1.4)');
  }
  // A line of one repeated point has no length; GEOS calls it invalid and answers vary by version.
  if (points.every((p) => samePlace(p, points[0] as Position))) {
    throw fail(path, 'a LineString needs at least two distinct positions');
  }
  return points;
}

function polygon(value: unknown, path: string, budget: { left: number }): Position[][] {
  return list(value, path, 'a Polygon needs at least one linear ring', (ring, p) =>
    linearRing(ring, p, budget),
  );
}

/** RFC 7946 section 3.1.6; the winding order is not checked, as the RFC asks parsers not to. */
function linearRing(value: unknown, path: string, budget: { left: number }): Position[] {
  const ring = list(value, path, 'a polygon ring needs at least 4 positions', (v, p) =>
    position(v, p, budget),
  );
  if (ring.length < 4) {
    throw fail(
      path,
      `a polygon ring needs at least 4 positions (RFC 7946 section 3.1.6), got ${ring.length}`,
    );
  }
  const last = ring.length - 1;
  if (!identical(ring[0] as Position, ring[last] as Position)) {
    throw fail(`${path}[${last}]`, 'a polygon ring must end where it starts');
  }
  const defect = findRingDefect(ring);
  if (defect) {
    throw fail(path, defect);
  }
  return ring;
}

function samePlace(a: Position, b: Position): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/** The RFC asks the first and last positions of a ring to "contain identical values", altitude included. */
function identical(a: Position, b: Position): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function fail(path: string, message: string): BadRequestData {
  return new BadRequestData(`${path}: ${message}`);
}

/** A client value quoted for an error message, cut short so that a message stays readable. */
function show(value: unknown): string {
  // JSON.stringify would print NaN and the infinities as null.
  const text =
    value === undefined ? 'nothing' : typeof value === 'number' ? String(value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
