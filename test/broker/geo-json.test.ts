import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestData } from '../../src/broker/errors.ts';
import { MAX_POSITIONS, validateCoordinates, validateGeometry } from '../../src/broker/query/geo-json.ts';
import { assertThrowsExactly } from './helpers.ts';

/** Positions written as in WKT, `x y, x y, …`, so that Biome keeps each ring on one line. */
const ring = (text: string) => text.split(',').map((position) => position.trim().split(/\s+/).map(Number));

/** 仙台市役所 (Sendai City Hall) and a block around it, [longitude, latitude]. */
const CITY_HALL = [140.8694, 38.2682];
const BLOCK = ring('140.86 38.255, 140.89 38.255, 140.89 38.275, 140.86 38.275, 140.86 38.255');
const AT = 'location.value.coordinates';

const rejects = (value: unknown, message: string) =>
  assertThrowsExactly(() => validateGeometry(value, 'location.value'), BadRequestData, message);

const polygon = (...rings: unknown[]) => ({ type: 'Polygon', coordinates: rings });

describe('validateGeometry accepts', () => {
  it('a point, with or without altitude, and every corner of the lon/lat range', () => {
    assert.deepEqual(validateGeometry({ type: 'Point', coordinates: CITY_HALL }, 'v'), {
      type: 'Point',
      coordinates: CITY_HALL,
    });
    validateGeometry({ type: 'Point', coordinates: [140.8694, 38.2682, 12.5] }, 'v');
    for (const corner of ring('180 90, -180 -90, -180 90, 180 -90')) {
      validateGeometry({ type: 'Point', coordinates: corner }, 'v');
    }
  });

  it('every geometry type of RFC 7946 but GeometryCollection', () => {
    validateGeometry({ type: 'MultiPoint', coordinates: [CITY_HALL, [140.8824, 38.2601]] }, 'v');
    validateGeometry({ type: 'LineString', coordinates: [CITY_HALL, [140.8824, 38.2601]] }, 'v');
    validateGeometry({ type: 'MultiLineString', coordinates: [[CITY_HALL, [140.8824, 38.2601]]] }, 'v');
    validateGeometry(polygon(BLOCK), 'v');
    validateGeometry({ type: 'MultiPolygon', coordinates: [[BLOCK], [BLOCK]] }, 'v');
  });

  it('a polygon with a hole, and rings wound either way (RFC 7946 asks parsers not to refuse)', () => {
    const hole = ring('140.88 38.258, 140.885 38.258, 140.885 38.262, 140.88 38.262, 140.88 38.258');
    validateGeometry(polygon(BLOCK, hole), 'v');
    validateGeometry(polygon([...BLOCK].reverse()), 'v');
  });

  it('a ring that repeats a position in a row, which OGC allows', () => {
    validateGeometry(polygon(ring('0 0, 1 0, 1 0, 1 1, 0 1, 0 0')), 'v');
  });

  it('a bbox and foreign members, returning only type and coordinates', () => {
    const value = { type: 'Point', coordinates: CITY_HALL, bbox: [140, 38, 141, 39], name: '仙台市役所' };
    assert.deepEqual(validateGeometry(value, 'v'), { type: 'Point', coordinates: CITY_HALL });
  });

  it(`up to ${MAX_POSITIONS} positions`, () => {
    const points = Array.from({ length: MAX_POSITIONS }, (_, i) => [140 + i / MAX_POSITIONS, 38]);
    validateGeometry({ type: 'MultiPoint', coordinates: points }, 'v');
  });

  // A quadratic self-intersection check would take hours here, so the test's own timeout catches one.
  it('a ring of 100 000 positions', () => {
    const n = MAX_POSITIONS - 1;
    const circle = Array.from({ length: n }, (_, i) => {
      const angle = (2 * Math.PI * i) / n;
      return [140.8824 + 0.01 * Math.cos(angle), 38.2601 + 0.01 * Math.sin(angle)];
    });
    validateGeometry(polygon([...circle, circle[0]]), 'v');
  });
});

describe('validateGeometry refuses, naming the path', () => {
  it('a value that is not a geometry object', () => {
    const message =
      'location.value: a GeoJSON geometry must be an object with "type" and "coordinates" (RFC 7946 section 3.1)';
    rejects('POINT(140.8694 38.2682)', message);
    rejects(null, message);
    rejects([CITY_HALL], message);
  });

  it('a missing, misspelt or unknown type, and GeometryCollection', () => {
    const expected = 'must be one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon';
    rejects({ coordinates: CITY_HALL }, `location.value.type: ${expected} (case-sensitive), got nothing`);
    rejects(
      { type: 'point', coordinates: CITY_HALL },
      `location.value.type: ${expected} (case-sensitive), got "point"`,
    );
    rejects(
      { type: 'Feature', coordinates: CITY_HALL },
      `location.value.type: ${expected} (case-sensitive), got "Feature"`,
    );
    rejects(
      { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: CITY_HALL }] },
      'location.value.type: a GeometryCollection is not allowed (ETSI GS CIM 009 clauses 4.7.1 and 4.10)',
    );
  });

  it('a crs, which PostGIS would obey, and stray geometries', () => {
    rejects(
      { type: 'Point', coordinates: CITY_HALL, crs: { type: 'name', properties: { name: 'EPSG:3857' } } },
      'location.value.crs: not allowed: GeoJSON coordinates are always WGS 84 (RFC 7946 section 4)',
    );
    rejects(
      { type: 'Point', coordinates: CITY_HALL, geometries: [] },
      'location.value.geometries: only a GeometryCollection has geometries, and NGSI-LD does not allow one',
    );
  });

  it('a malformed bbox', () => {
    const message = 'location.value.bbox: must be an array of 4 or 6 numbers (RFC 7946 section 5)';
    rejects({ type: 'Point', coordinates: CITY_HALL, bbox: [140, 38, 141] }, message);
    rejects({ type: 'Point', coordinates: CITY_HALL, bbox: '140,38,141,39' }, message);
  });

  it('missing coordinates', () => {
    rejects({ type: 'Point' }, `${AT}: missing`);
  });

  it('a position that is not two or three finite numbers', () => {
    rejects(
      { type: 'Point', coordinates: '140.8694,38.2682' },
      `${AT}: a position must be an array [longitude, latitude], got "140.8694,38.2682"`,
    );
    rejects(
      { type: 'Point', coordinates: [140.8694] },
      `${AT}: a position has 2 or 3 numbers (longitude, latitude, optional altitude), got 1`,
    );
    rejects(
      { type: 'Point', coordinates: [1, 2, 3, 4] },
      `${AT}: a position has 2 or 3 numbers (longitude, latitude, optional altitude), got 4`,
    );
    rejects(
      { type: 'Point', coordinates: ['140.8694', 38.2682] },
      `${AT}[0]: must be a finite number, got "140.8694"`,
    );
    rejects({ type: 'Point', coordinates: [140.8694, null] }, `${AT}[1]: must be a finite number, got null`);
    rejects({ type: 'Point', coordinates: [Number.NaN, 38] }, `${AT}[0]: must be a finite number, got NaN`);
    // JSON.parse('1e999') is Infinity: a query string can carry it.
    rejects(
      { type: 'Point', coordinates: [140, JSON.parse('1e999')] },
      `${AT}[1]: must be a finite number, got Infinity`,
    );
  });

  it('a longitude or latitude out of range, hinting at swapped axes', () => {
    rejects(
      { type: 'Point', coordinates: [180.5, 38] },
      `${AT}[0]: longitude must be between -180 and 180, got 180.5`,
    );
    rejects(
      { type: 'Point', coordinates: [38.2682, 140.8694] },
      `${AT}[1]: latitude must be between -90 and 90, got 140.8694 (positions are [longitude, latitude])`,
    );
  });

  it('empty multi-geometries and polygons', () => {
    rejects({ type: 'MultiPoint', coordinates: [] }, `${AT}: a MultiPoint needs at least one position`);
    rejects({ type: 'MultiLineString', coordinates: [] }, `${AT}: a MultiLineString needs at least one line`);
    rejects({ type: 'MultiPolygon', coordinates: [] }, `${AT}: a MultiPolygon needs at least one polygon`);
    rejects(polygon(), `${AT}: a Polygon needs at least one linear ring`);
  });

  it('a LineString of fewer than two distinct positions', () => {
    rejects(
      { type: 'LineString', coordinates: [CITY_HALL] },
      `${AT}: a LineString needs at least two positions (RFC 7946 section 3.1.4)`,
    );
    rejects(
      { type: 'LineString', coordinates: [CITY_HALL, [...CITY_HALL]] },
      `${AT}: a LineString needs at least two distinct positions`,
    );
    rejects(
      { type: 'MultiLineString', coordinates: [[CITY_HALL, [140.88, 38.26]], 'x'] },
      `${AT}[1]: must be an array, got "x"`,
    );
  });

  it('a ring of fewer than 4 positions, or one that does not close', () => {
    rejects(
      polygon(ring('0 0, 1 0, 0 0')),
      `${AT}[0]: a polygon ring needs at least 4 positions (RFC 7946 section 3.1.6), got 3`,
    );
    rejects(polygon(ring('0 0, 1 0, 1 1, 0 1')), `${AT}[0][3]: a polygon ring must end where it starts`);
    // "identical values", altitude included
    rejects(
      polygon(ring('0 0 5, 1 0 5, 1 1 5, 0 0 6')),
      `${AT}[0][3]: a polygon ring must end where it starts`,
    );
  });

  it('a ring that crosses itself (a bow tie) or touches itself', () => {
    rejects(
      polygon(ring('0 0, 1 1, 1 0, 0 1, 0 0')),
      `${AT}[0]: a polygon ring must not cross or touch itself (the edges from positions 0 and 2 meet)`,
    );
    // A figure of eight through (1, 1): the ring visits one place twice.
    rejects(
      polygon(ring('0 0, 1 1, 2 0, 2 2, 1 1, 0 2, 0 0')),
      `${AT}[0]: a polygon ring must not cross or touch itself (the edges from positions 0 and 4 meet)`,
    );
    // A corner lying on another edge.
    rejects(
      polygon(ring('0 0, 4 0, 4 4, 2 0, 0 4, 0 0')),
      `${AT}[0]: a polygon ring must not cross or touch itself (the edges from positions 0 and 3 meet)`,
    );
  });

  it('a ring that turns back on itself or has no area', () => {
    rejects(
      polygon(ring('0 0, 2 0, 1 0, 1 1, 0 0')),
      `${AT}[0]: a polygon ring must not turn back on itself (at position 1)`,
    );
    rejects(
      polygon(ring('0 0, 1 0, 2 0, 0 0')),
      `${AT}[0]: a polygon ring must not turn back on itself (at position 2)`,
    );
    rejects(
      polygon(ring('0 0, 1 1, 1 1, 0 0')),
      `${AT}[0]: a polygon ring needs at least three distinct corners`,
    );
  });

  it('a bad hole or a bad ring of a later polygon, by its full path', () => {
    rejects(
      polygon(BLOCK, ring('140.87 38.26, 140.88 38.26, 140.88 38.27')),
      `${AT}[1]: a polygon ring needs at least 4 positions (RFC 7946 section 3.1.6), got 3`,
    );
    rejects(
      { type: 'MultiPolygon', coordinates: [[BLOCK], [ring('0 0, 1 0, 1 1, 0 1, 0.5 0.5')]] },
      `${AT}[1][0][4]: a polygon ring must end where it starts`,
    );
  });

  it(`more than ${MAX_POSITIONS} positions`, () => {
    const points = Array.from({ length: MAX_POSITIONS + 1 }, () => CITY_HALL);
    rejects(
      { type: 'MultiPoint', coordinates: points },
      `${AT}[${MAX_POSITIONS}]: a geometry may have at most ${MAX_POSITIONS} positions`,
    );
  });

  it('a ring whose every edge spans the same longitudes, too costly to check', () => {
    // A valid zigzag: 10 000 edges open at once in the sweep, 50 million pairs.
    const zigzag = Array.from({ length: 10_000 }, (_, i) => [i % 2, i * 0.001]);
    rejects(
      polygon([...zigzag, ...ring('2 9.999, 2 -1, 0 -1, 0 0')]),
      `${AT}[0]: this polygon ring is too intricate to check; simplify it`,
    );
  });
});

describe('validation errors', () => {
  it('answer 400 with the NGSI-LD BadRequestData type', () => {
    assert.throws(
      () => validateGeometry({ type: 'Point', coordinates: [200, 0] }, 'location.value'),
      (error: unknown) => {
        assert.ok(error instanceof BadRequestData);
        assert.equal(error.status, 400);
        assert.equal(error.type, 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData');
        return true;
      },
    );
  });
});

describe('validateCoordinates', () => {
  it('checks the coordinates of a known type under the path it is given', () => {
    assert.deepEqual(validateCoordinates('Point', CITY_HALL, 'coordinates'), {
      type: 'Point',
      coordinates: CITY_HALL,
    });
    assert.throws(() => validateCoordinates('Polygon', [[CITY_HALL]], 'coordinates'), {
      name: 'BadRequestData',
      message: 'coordinates[0]: a polygon ring needs at least 4 positions (RFC 7946 section 3.1.6), got 1',
    });
  });
});
