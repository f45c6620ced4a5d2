import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, startBroker } from './helpers.ts';
import { assertClose, SENSOR, sensorHistory } from './temporal-helpers.ts';

const ALL = 'totalCount,distinctCount,sum,avg,min,max,stddev,sumsq';
const DAY20 = '2026-11-20T00:00:00.000Z';
const DAY21 = '2026-11-21T00:00:00.000Z';
const DAY22 = '2026-11-22T00:00:00.000Z';

/** One period's results per method, as [value, start, end] (§4.5.19). */
function periods(start: string[], end: string[], values: Record<string, (number | null)[]>) {
  return Object.fromEntries(
    Object.entries(values).map(([method, list]) => [method, list.map((v, i) => [v, start[i], end[i]])]),
  );
}

describe(`NGSI-LD temporal API: aggregated representation computed in SQL (§4.5.19) (${backend})`, () => {
  let b: BrokerTest;
  const get = async (query: string) => {
    const response = await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}?${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  };
  before(async () => {
    b = await startBroker();
    const created = await ngsi(b.app, 'POST', '/temporal/entities', sensorHistory());
    assert.equal(created.statusCode, 201, created.body);
  });
  after(() => b.close());

  it('aggregates daily periods (P1D): 1, 3, 5 on the 20th and 2, 4, 4 on the 21st', async () => {
    const body = await get(
      `attrs=level&options=aggregatedValues&aggrMethods=${ALL}&aggrPeriodDuration=P1D` +
        `&timerel=between&timeAt=2026-11-20T00:00:00Z&endTimeAt=2026-11-22T00:00:00Z`,
    );
    assertClose(body, {
      id: SENSOR,
      type: 'WaterLevelSensor',
      level: {
        type: 'Property',
        ...periods([DAY20, DAY21], [DAY21, DAY22], {
          totalCount: [3, 3],
          distinctCount: [3, 2],
          sum: [9, 10],
          avg: [3, 10 / 3],
          min: [1, 2],
          max: [5, 4],
          // sample standard deviation: √(8/2) and √((16/9 + 4/9 + 4/9)/2)
          stddev: [2, Math.sqrt(4 / 3)],
          sumsq: [35, 36],
        }),
      },
    });
  });

  it('aggregates hourly periods (PT1H), leaving out hours without instances', async () => {
    const body = await get(
      'attrs=level&aggrMethods=totalCount,sum,avg,stddev,sumsq&aggrPeriodDuration=PT1H' +
        '&timerel=between&timeAt=2026-11-20T00:00:00Z&endTimeAt=2026-11-21T00:00:00Z',
    );
    assertClose(body.level, {
      type: 'Property',
      ...periods(
        ['2026-11-20T00:00:00.000Z', '2026-11-20T01:00:00.000Z'],
        ['2026-11-20T01:00:00.000Z', '2026-11-20T02:00:00.000Z'],
        {
          totalCount: [2, 1],
          sum: [4, 5],
          avg: [2, 5],
          stddev: [Math.SQRT2, null],
          sumsq: [10, 25],
        },
      ),
    });
  });

  it('aggregates over the whole interval when aggrPeriodDuration is absent or zero', async () => {
    const interval = '&timerel=between&timeAt=2026-11-20T00:00:00Z&endTimeAt=2026-11-22T00:00:00Z';
    const expected = {
      type: 'Property',
      ...periods([DAY20], [DAY22], {
        totalCount: [6],
        distinctCount: [5],
        sum: [19],
        avg: [19 / 6],
        min: [1],
        max: [5],
      }),
    };
    const methods = 'aggrMethods=totalCount,distinctCount,sum,avg,min,max';
    assertClose((await get(`attrs=level&${methods}${interval}`)).level, expected);
    assertClose((await get(`attrs=level&${methods}&aggrPeriodDuration=PT0S${interval}`)).level, expected);
  });

  it('starts periods at the first instance when the query has no start (timerel=before)', async () => {
    const body = await get(
      'attrs=level&aggrMethods=max&aggrPeriodDuration=PT12H&timerel=before&timeAt=2026-11-21T01:00:00Z',
    );
    assertClose(body.level, {
      type: 'Property',
      max: [
        [5, '2026-11-20T00:10:00.000Z', '2026-11-20T12:10:00.000Z'],
        [2, '2026-11-21T00:10:00.000Z', '2026-11-21T12:10:00.000Z'],
      ],
    });
  });

  it('counts strings but gives no numeric results for them', async () => {
    const body = await get(
      'attrs=status&aggrMethods=totalCount,distinctCount,sum,max' +
        '&timerel=between&timeAt=2026-11-20T00:00:00Z&endTimeAt=2026-11-22T00:00:00Z',
    );
    assertClose(body.status, {
      type: 'Property',
      ...periods([DAY20], [DAY22], { totalCount: [3], distinctCount: [2], sum: [null], max: [null] }),
    });
  });

  it('aggregates in calendar months with P1M, and each query entity separately', async () => {
    await ngsi(b.app, 'POST', '/temporal/entities', {
      id: 'urn:ngsi-ld:WaterLevelSensor:hirose-002',
      type: 'WaterLevelSensor',
      level: [
        { type: 'Property', value: 7, observedAt: '2026-10-31T23:00:00Z' },
        { type: 'Property', value: 8, observedAt: '2026-11-30T23:00:00Z' },
      ],
    });
    const response = await ngsi(
      b.app,
      'GET',
      '/temporal/entities?type=WaterLevelSensor&attrs=level&aggrMethods=sum&aggrPeriodDuration=P1M' +
        '&timerel=after&timeAt=2026-10-01T00:00:00Z',
    );
    assert.equal(response.statusCode, 200, response.body);
    const [first, second] = response.json();
    assertClose(first.level.sum, [[19, '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']]);
    assertClose(second.level.sum, [
      [7, '2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'],
      [8, '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ]);
  });
});
