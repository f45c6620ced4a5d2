import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestData, InvalidRequest } from '../../src/broker/errors.ts';
import {
  compileGeoQuery,
  type GeoQueryParams,
  parseGeoQuery,
  parseGeorel,
} from '../../src/broker/query/geo-query.ts';
import { SqlParams } from '../../src/broker/query/sql-params.ts';

const SENDAI_STATION = [140.8824, 38.2601]; // 仙台駅
const AOBA_CENTRE = [
  [140.86, 38.255],
  [140.89, 38.255],
  [140.89, 38.275],
  [140.86, 38.275],
  [140.86, 38.255],
];

function invalid(params: GeoQueryParams, message: string): void {
  assert.throws(
    () => parseGeoQuery(params),
    (error: unknown) => {
      assert.ok(error instanceof InvalidRequest, `expected InvalidRequest, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

const point = { geometry: 'Point', coordinates: JSON.stringify(SENDAI_STATION) };

describe('parseGeoQuery', () => {
  it('answers undefined when the request has no geo-query', () => {
    assert.equal(parseGeoQuery({}), undefined);
  });

  it('reads a GET query: coordinates as JSON text, location by default', () => {
    assert.deepEqual(parseGeoQuery({ georel: 'near;maxDistance==2000', ...point }), {
      georel: { relation: 'near', distance: 'maxDistance', metres: 2000 },
      geometry: { type: 'Point', coordinates: SENDAI_STATION },
      geoproperty: 'location',
    });
  });

  it('reads a POST query or a subscription geoQ: coordinates as an array, or as JSON text', () => {
    const body = {
      georel: 'within',
      geometry: 'Polygon',
      coordinates: [AOBA_CENTRE],
      geoproperty: 'observationSpace',
    };
    assert.deepEqual(parseGeoQuery(body), {
      georel: { relation: 'within' },
      geometry: { type: 'Polygon', coordinates: [AOBA_CENTRE] },
      geoproperty: 'observationSpace',
    });
    assert.deepEqual(
      parseGeoQuery({ ...body, coordinates: JSON.stringify([AOBA_CENTRE]) }),
      parseGeoQuery(body),
    );
  });

  it('wants georel, geometry and coordinates together, and names what is missing', () => {
    invalid(
      { georel: 'within' },
      'a geo-query needs georel, geometry and coordinates together; missing: geometry, coordinates',
    );
    invalid(point, 'a geo-query needs georel, geometry and coordinates together; missing: georel');
    invalid(
      { geoproperty: 'location' },
      'geoproperty names the target of a geo-query, but georel, geometry and coordinates are missing',
    );
  });

  it('refuses an unknown or misspelt geometry type, and GeometryCollection', () => {
    const expected =
      'expected one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon (case-sensitive; clause 4.10 excludes GeometryCollection)';
    invalid(
      { ...point, georel: 'intersects', geometry: 'point' },
      `geometry "point" is not valid; ${expected}`,
    );
    invalid(
      { ...point, georel: 'intersects', geometry: 'GeometryCollection' },
      `geometry "GeometryCollection" is not valid; ${expected}`,
    );
  });

  it('refuses coordinates that are not JSON', () => {
    invalid(
      { ...point, georel: 'intersects', coordinates: '140.8824,38.2601' },
      'coordinates must be a JSON array such as [140.8694,38.2682], got "140.8824,38.2601"',
    );
  });

  it('hands coordinates of the wrong shape to the GeoJSON rules, which name the path', () => {
    assert.throws(
      () =>
        parseGeoQuery({ georel: 'within', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,1]]]' }),
      {
        name: 'BadRequestData',
        message: 'coordinates[0][3]: a polygon ring must end where it starts',
      },
    );
    assert.throws(
      () => parseGeoQuery({ ...point, georel: 'within', coordinates: '[38.2601,140.8824]' }),
      BadRequestData,
    );
  });

  it('refuses a geoproperty that cannot be an attribute name', () => {
    invalid({ ...point, georel: 'within', geoproperty: '' }, 'geoproperty must be an attribute name, got ""');
    invalid(
      { ...point, georel: 'within', geoproperty: 'my location' },
      'geoproperty must be an attribute name, got "my location"',
    );
  });
});

describe('parseGeorel (clause 4.10 grammar)', () => {
  it('reads each relation, and near with one distance in metres', () => {
    for (const relation of ['within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps']) {
      assert.deepEqual(parseGeorel(relation), { relation });
    }
    assert.deepEqual(parseGeorel('near;minDistance==10'), {
      relation: 'near',
      distance: 'minDistance',
      metres: 10,
    });
    assert.deepEqual(parseGeorel('near;maxDistance==1500.5'), {
      relation: 'near',
      distance: 'maxDistance',
      metres: 1500.5,
    });
    assert.deepEqual(parseGeorel('near;maxDistance==2e3'), {
      relation: 'near',
      distance: 'maxDistance',
      metres: 2000,
    });
  });

  it('refuses an unknown relation, listing the valid ones', () => {
    const valid =
      'expected one of near;maxDistance==<metres>, near;minDistance==<metres>, within, contains, intersects, equals, disjoint, overlaps';
    assert.throws(() => parseGeorel('inside'), {
      name: 'InvalidRequest',
      message: `georel "inside" is not valid; ${valid}`,
    });
    assert.throws(() => parseGeorel('Within'), {
      name: 'InvalidRequest',
      message: `georel "Within" is not valid; ${valid}`,
    });
    assert.throws(() => parseGeorel('coveredBy'), InvalidRequest);
  });

  it('refuses a modifier on a relation other than near', () => {
    assert.throws(() => parseGeorel('within;maxDistance==10'), {
      message: 'georel within takes no modifier, got "within;maxDistance==10"',
    });
  });

  it('wants exactly one of maxDistance and minDistance on near', () => {
    assert.throws(() => parseGeorel('near'), {
      message: 'georel near needs a distance: near;maxDistance==<metres> or near;minDistance==<metres>',
    });
    assert.throws(() => parseGeorel('near;maxDistance==2000;minDistance==10'), {
      message: 'georel near takes exactly one of maxDistance and minDistance',
    });
    assert.throws(() => parseGeorel('near;maxDistance=2000'), {
      message:
        'georel near has an unknown modifier "maxDistance=2000"; expected maxDistance==<metres> or minDistance==<metres>',
    });
    assert.throws(() => parseGeorel('near;distance==5'), InvalidRequest);
  });

  it('wants a PositiveNumber: a JSON number, no minus sign, not 0', () => {
    for (const bad of ['0', '0.0', '-5', 'abc', '', ' 5', '01', '0x10', 'Infinity', '1e999', '5.', '.5']) {
      assert.throws(() => parseGeorel(`near;maxDistance==${bad}`), {
        name: 'InvalidRequest',
        message: `georel near: maxDistance must be a number of metres greater than 0, got ${JSON.stringify(bad)}`,
      });
    }
  });
});

describe('compileGeoQuery', () => {
  it('puts every client value in a parameter, none in the SQL text', () => {
    const query = parseGeoQuery({ georel: 'near;maxDistance==1500', ...point, geoproperty: "x')or(true)--" });
    assert.ok(query);
    const params = new SqlParams();
    const sql = compileGeoQuery(query, { params, expand: (term) => `urn:test:${term}` });
    assert.equal(
      sql,
      'e.id = any(array(select g.entity_id from broker.geo_in_tenant g where g.attr = $1' +
        ' and ST_DWithin(g.geom::geography, ST_SetSRID(ST_GeomFromGeoJSON($2::text), 4326)::geography, $3::float8)))',
    );
    assert.deepEqual(params.values, [
      "urn:test:x')or(true)--",
      JSON.stringify({ type: 'Point', coordinates: SENDAI_STATION }),
      1500,
    ]);
  });
});
