import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseDuration } from '../../src/broker/temporal/temporal-query.ts';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, startBroker } from './helpers.ts';
import { assertNgsiError, SENSOR, sensorHistory } from './temporal-helpers.ts';

describe('aggrPeriodDuration as a PostgreSQL interval (§4.5.19)', () => {
  it('reads ISO 8601 durations, keeping calendar units, and zero as the whole interval', () => {
    assert.equal(parseDuration('PT1H'), '1 hours');
    assert.equal(parseDuration('P1D'), '1 days');
    assert.equal(
      parseDuration('P1Y2M3W4DT5H6M7.5S'),
      '1 years 2 months 3 weeks 4 days 5 hours 6 minutes 7.5 seconds',
    );
    assert.equal(parseDuration('PT0S'), undefined);
    assert.equal(parseDuration('P0D'), undefined);
  });
});

describe(`NGSI-LD temporal API: wrong requests are answered precisely (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
    assert.equal((await ngsi(b.app, 'POST', '/temporal/entities', sensorHistory())).statusCode, 201);
  });
  after(() => b.close());

  const invalid: [string, RegExp][] = [
    ['timerel=during&timeAt=2026-11-20T00:00:00Z', /timerel "during" is not valid/],
    ['timerel=before', /timerel=before needs timeAt/],
    ['timerel=between&timeAt=2026-11-20T00:00:00Z', /needs endTimeAt/],
    ['timerel=between&timeAt=2026-11-21T00:00:00Z&endTimeAt=2026-11-20T00:00:00Z', /later than timeAt/],
    ['timerel=after&timeAt=yesterday', /timeAt must be an ISO 8601/],
    ['timerel=after&timeAt=2026-11-20T00:00:00', /with a zone/],
    ['timerel=after&timeAt=2026-11-20T00:00:00Z&endTimeAt=2026-11-21T00:00:00Z', /only for timerel=between/],
    ['timeAt=2026-11-20T00:00:00Z', /need timerel/],
    ['timeproperty=generatedAt', /timeproperty "generatedAt" is not known/],
    ['lastN=0', /lastN must be a whole number/],
    ['lastN=two', /lastN must be a whole number/],
    ['options=keyValues', /options=keyValues is not offered/],
    ['options=temporalValues,aggregatedValues&aggrMethods=sum', /not both/],
    ['options=aggregatedValues', /needs aggrMethods/],
    ['aggrMethods=median', /aggrMethods "median" is not known/],
    ['aggrMethods=', /must list one or more/],
    ['aggrMethods=sum&aggrPeriodDuration=1H', /not an ISO 8601 duration/],
    ['aggrMethods=sum&aggrPeriodDuration=P1H', /not an ISO 8601 duration/],
    ['aggrMethods=sum&aggrPeriodDuration=P', /not an ISO 8601 duration/],
    ['aggrPeriodDuration=PT1H', /needs aggrMethods/],
    ['options=temporalValues&aggrMethods=sum', /not temporalValues/],
    ['format=keyValues', /format=keyValues is not offered/],
  ];
  for (const [query, detail] of invalid) {
    it(`rejects ${query} as InvalidRequest`, async () => {
      const response = await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}?${query}`);
      const body = assertNgsiError(response, 400, 'InvalidRequest');
      assert.match(String(body.detail), detail);
    });
  }

  it('checks the query parameters of GET /temporal/entities too', async () => {
    const response = await ngsi(b.app, 'GET', '/temporal/entities?type=WaterLevelSensor&timerel=after');
    assertNgsiError(response, 400, 'InvalidRequest');
    assertNgsiError(await ngsi(b.app, 'GET', '/temporal/entities?idPattern=(('), 400, 'InvalidRequest');
  });

  it('rejects a temporal body that is not NGSI-LD as BadRequestData', async () => {
    const bad: unknown[] = [
      [],
      { id: 'not a uri', type: 'T' },
      { id: SENSOR },
      { id: SENSOR, type: 'T', level: [{ type: 'Property', value: 1, observedAt: 'noon' }] },
      { id: SENSOR, type: 'T', level: [] },
      { id: SENSOR, type: 'T', level: [1, 2] },
      { id: SENSOR, type: 'T', level: [{ type: 'Relationship', object: 'nope' }] },
    ];
    for (const body of bad) {
      const response = await ngsi(b.app, 'POST', '/temporal/entities', body);
      assertNgsiError(response, 400, 'BadRequestData');
    }
  });

  it('answers 404 for an entity without history, and 406 for GeoJSON', async () => {
    assertNgsiError(await ngsi(b.app, 'GET', '/temporal/entities/urn:ngsi-ld:X:1'), 404, 'ResourceNotFound');
    const geo = await ngsi(b.app, 'GET', `/temporal/entities/${SENSOR}`, undefined, {
      accept: 'application/geo+json',
    });
    assert.equal(geo.statusCode, 406);
  });
});
