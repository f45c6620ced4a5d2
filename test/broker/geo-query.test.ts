import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validateGeometry } from '../../src/broker/query/geo-json.ts';
import { compileGeoQuery, type GeoQueryParams, parseGeoQuery } from '../../src/broker/query/geo-query.ts';
import { SqlParams } from '../../src/broker/query/sql-params.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const CORE = 'https://uri.etsi.org/ngsi-ld/';
const LOCATION = `${CORE}location`;
const OBSERVATION_SPACE = `${CORE}observationSpace`;

/** Stands in for the request's @context: the two core GeoProperties, everything else in the default vocabulary. */
function expand(term: string): string {
  if (term === 'location' || term === 'observationSpace') {
    return CORE + term;
  }
  return term.includes(':') ? term : `${CORE}default-context/${term}`;
}

// Places in 仙台市 and 石巻市, [longitude, latitude].
const SENDAI_STATION = [140.8824, 38.2601]; // 仙台駅
const CITY_HALL = [140.8694, 38.2682]; // 仙台市役所, 1450 m from 仙台駅
const CASTLE = [140.8563, 38.253]; // 青葉城址, 2417 m from 仙台駅
const ISHINOMAKI = [141.3026, 38.4344]; // 石巻市役所, 41.5 km from 仙台駅
/** Positions written as in WKT, `x y, x y, …`, so that Biome keeps each geometry on one line. */
const positions = (text: string) =>
  text.split(',').map((position) => position.trim().split(/\s+/).map(Number));
const box = (w: number, s: number, e: number, n: number) =>
  positions(`${w} ${s}, ${e} ${s}, ${e} ${n}, ${w} ${n}, ${w} ${s}`);
const AOBA_CENTRE = box(140.86, 38.255, 140.89, 38.275); // holds 市役所 and 駅, not 青葉城址
const AROUND_STATION = box(140.88, 38.258, 140.885, 38.262);

const point = { geometry: 'Point', coordinates: JSON.stringify(SENDAI_STATION) };

/** A GeoProperty instance as the entity store writes it to broker.geo. */
interface Row {
  entity: string;
  geometry: unknown;
  attr?: string;
  datasetId?: string;
  tenant?: string;
}

const SENDAI = '041009'; // 仙台市
const ISHINOMAKI_CITY = '042021'; // 石巻市
const ID = 'urn:ngsi-ld:Place:';

const ROWS: Row[] = [
  { entity: 'station', geometry: { type: 'Point', coordinates: SENDAI_STATION } },
  { entity: 'cityHall', geometry: { type: 'Point', coordinates: CITY_HALL } },
  { entity: 'castle', geometry: { type: 'Point', coordinates: CASTLE } },
  { entity: 'ishinomakiCityHall', geometry: { type: 'Point', coordinates: ISHINOMAKI } },
  { entity: 'aobaCentre', geometry: { type: 'Polygon', coordinates: [AOBA_CENTRE] } },
  { entity: 'miyaginoWest', geometry: { type: 'Polygon', coordinates: [box(140.88, 38.25, 140.92, 38.27)] } },
  // 定禅寺通, 905 m from 仙台駅 at its eastern end
  {
    entity: 'jozenjiDori',
    geometry: { type: 'LineString', coordinates: positions('140.862 38.2678, 140.876 38.2665') },
  },
  // A multi-attribute: the front of the bus 69 m from 仙台駅, its rear in 石巻.
  {
    entity: 'bus',
    datasetId: 'urn:ngsi-ld:Dataset:front',
    geometry: { type: 'Point', coordinates: [140.883, 38.2605] },
  },
  {
    entity: 'bus',
    datasetId: 'urn:ngsi-ld:Dataset:rear',
    geometry: { type: 'Point', coordinates: [141.29, 38.43] },
  },
  // A camera in 石巻 that watches 仙台駅.
  { entity: 'camera', geometry: { type: 'Point', coordinates: [141.3, 38.43] } },
  { entity: 'camera', attr: OBSERVATION_SPACE, geometry: { type: 'Polygon', coordinates: [AROUND_STATION] } },
  // Same id in both cities; only 石巻市's has a location, at 仙台駅.
  { entity: 'twin', tenant: ISHINOMAKI_CITY, geometry: { type: 'Point', coordinates: SENDAI_STATION } },
];
const ENTITIES = [...new Set(ROWS.map((r) => r.entity)), 'noLocation'];

describe(`geo-queries run on ${backend}`, () => {
  let t: TestDb;

  before(async () => {
    t = await createTestDb();
    // This database is the test's own: broker.geo is (re)made in the shape the broker README
    // documents, with the indexes proposed for it, so that these tests pin the compiled SQL and
    // not the migration's other constraints (foreign key, row-level security).
    await t.db.exec(`
      create schema if not exists broker;
      drop table if exists broker.geo cascade;
      create table broker.geo (
        tenant_id text not null, entity_id text not null, attr text not null,
        dataset_id text not null default '', geom geometry(Geometry, 4326) not null,
        primary key (tenant_id, entity_id, attr, dataset_id));
      create index on broker.geo using gist (geom);
      create index on broker.geo using gist ((geom::geography));
      create view broker.geo_in_tenant as
        select tenant_id, entity_id, attr, dataset_id, geom from broker.geo
         where tenant_id = current_setting('machi.tenant_id', true);
      grant select on broker.geo_in_tenant to machi_app;
      create table geo_test_entities (tenant_id text not null, id text not null, primary key (tenant_id, id));
      grant select on geo_test_entities to machi_app;`);
    for (const tenant of [SENDAI, ISHINOMAKI_CITY]) {
      for (const entity of ENTITIES) {
        await t.db.query('insert into geo_test_entities values ($1, $2)', [tenant, ID + entity]);
      }
    }
    for (const row of ROWS) {
      const geometry = validateGeometry(row.geometry, `${row.entity}.location.value`);
      await t.db.query(
        `insert into broker.geo values ($1, $2, $3, $4, ST_SetSRID(ST_GeomFromGeoJSON($5::text), 4326))`,
        [
          row.tenant ?? SENDAI,
          ID + row.entity,
          row.attr ?? LOCATION,
          row.datasetId ?? '',
          JSON.stringify(geometry),
        ],
      );
    }
  });

  after(async () => {
    await t?.close();
  });

  /** The short names of the tenant's matching entities, sorted here so that collations cannot differ. */
  async function matching(query: GeoQueryParams, tenant = SENDAI): Promise<string[]> {
    const geo = parseGeoQuery(query);
    assert.ok(geo);
    const params = new SqlParams();
    const where = `e.tenant_id = ${params.add(tenant)} and ${compileGeoQuery(geo, { params, expand })}`;
    // As the application runs it: the tenant's role and setting, which the geometry view depends on.
    const { rows } = await t.db.withTenant(tenant, (tx) =>
      tx.query<{ id: string }>(`select e.id from geo_test_entities e where ${where}`, params.values),
    );
    return rows.map((r) => r.id.slice(ID.length)).sort();
  }

  const pointQuery = (georel: string, coordinates = SENDAI_STATION) =>
    matching({ georel, geometry: 'Point', coordinates: JSON.stringify(coordinates) });
  const polygonQuery = (georel: string, rings: number[][][]) =>
    matching({ georel, geometry: 'Polygon', coordinates: JSON.stringify(rings) });

  it('near;maxDistance finds what lies within that many metres, touching the area or inside it', async () => {
    assert.deepEqual(await pointQuery('near;maxDistance==1500'), [
      'aobaCentre',
      'bus',
      'cityHall',
      'jozenjiDori',
      'miyaginoWest',
      'station',
    ]);
  });

  it('draws the line between 1400 and 1500 m for 仙台市役所, 1450 m from 仙台駅', async () => {
    assert.ok(!(await pointQuery('near;maxDistance==1400')).includes('cityHall'));
    assert.ok((await pointQuery('near;minDistance==1400')).includes('cityHall'));
    assert.ok(!(await pointQuery('near;minDistance==1500')).includes('cityHall'));
  });

  it('near;minDistance finds what is farther, and a multi-attribute matches by any instance', async () => {
    assert.deepEqual(await pointQuery('near;minDistance==1500'), [
      'bus',
      'camera',
      'castle',
      'ishinomakiCityHall',
    ]);
  });

  it('near measures from a reference with an altitude as from its ground position', async () => {
    assert.deepEqual(await pointQuery('near;maxDistance==100', [...SENDAI_STATION, 40] as number[]), [
      'aobaCentre',
      'bus',
      'miyaginoWest',
      'station',
    ]);
  });

  it('within finds targets inside the reference area, the area itself included', async () => {
    assert.deepEqual(await polygonQuery('within', [AOBA_CENTRE]), [
      'aobaCentre',
      'bus',
      'cityHall',
      'jozenjiDori',
      'station',
    ]);
  });

  it('within leaves out what lies in a hole of the reference', async () => {
    assert.deepEqual(await polygonQuery('within', [AOBA_CENTRE, AROUND_STATION]), [
      'cityHall',
      'jozenjiDori',
    ]);
  });

  it('contains finds targets that hold the reference geometry', async () => {
    // A point contains an equal point (OGC Simple Features), so 仙台駅 itself matches.
    assert.deepEqual(await pointQuery('contains'), ['aobaCentre', 'miyaginoWest', 'station']);
    const street = positions('140.865 38.27, 140.87 38.27');
    assert.deepEqual(await matching({ georel: 'contains', geometry: 'LineString', coordinates: street }), [
      'aobaCentre',
    ]);
  });

  it('intersects finds targets sharing any point with the reference', async () => {
    assert.deepEqual(await polygonQuery('intersects', [AOBA_CENTRE]), [
      'aobaCentre',
      'bus',
      'cityHall',
      'jozenjiDori',
      'miyaginoWest',
      'station',
    ]);
  });

  it('disjoint finds targets sharing no point, never entities without the GeoProperty', async () => {
    assert.deepEqual(await polygonQuery('disjoint', [AOBA_CENTRE]), [
      'bus',
      'camera',
      'castle',
      'ishinomakiCityHall',
    ]);
  });

  it('equals compares shapes, not how their positions are listed', async () => {
    assert.deepEqual(await pointQuery('equals', CITY_HALL), ['cityHall']);
    const sameBlockOtherWay = [...AOBA_CENTRE.slice(2, 4), ...AOBA_CENTRE.slice(0, 3)].reverse();
    assert.deepEqual(await polygonQuery('equals', [sameBlockOtherWay]), ['aobaCentre']);
  });

  it('overlaps finds areas that partly cover the reference area, not points or lines in it', async () => {
    assert.deepEqual(await polygonQuery('overlaps', [AOBA_CENTRE]), ['miyaginoWest']);
  });

  it('geoproperty picks the target GeoProperty', async () => {
    const query = {
      georel: 'contains',
      geometry: 'Point',
      coordinates: SENDAI_STATION,
      geoproperty: 'observationSpace',
    };
    assert.deepEqual(await matching(query), ['camera']);
  });

  it('takes MultiPoint, MultiLineString and MultiPolygon references', async () => {
    assert.deepEqual(
      await matching({ georel: 'intersects', geometry: 'MultiPoint', coordinates: [CASTLE, ISHINOMAKI] }),
      ['castle', 'ishinomakiCityHall'],
    );
    const crossing = [positions('140.87 38.26, 140.87 38.27')];
    assert.deepEqual(
      await matching({ georel: 'intersects', geometry: 'MultiLineString', coordinates: crossing }),
      ['aobaCentre', 'jozenjiDori'],
    );
    const twoCities = [[AOBA_CENTRE], [box(141.28, 38.42, 141.32, 38.44)]];
    assert.deepEqual(await matching({ georel: 'within', geometry: 'MultiPolygon', coordinates: twoCities }), [
      'aobaCentre',
      'bus',
      'camera',
      'cityHall',
      'ishinomakiCityHall',
      'jozenjiDori',
      'station',
    ]);
  });

  it("never matches another tenant's geometry under the same entity id", async () => {
    assert.ok(!(await pointQuery('near;maxDistance==100')).includes('twin'));
    assert.deepEqual(await matching({ georel: 'near;maxDistance==100', ...point }, ISHINOMAKI_CITY), [
      'twin',
    ]);
  });

  it('treats a hostile geoproperty as a name that matches nothing', async () => {
    assert.deepEqual(
      await matching({ georel: 'disjoint', ...point, geoproperty: "location')or(true)--" }),
      [],
    );
  });
});
