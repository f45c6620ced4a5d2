/** Shared history for the temporal API tests: a water-level sensor with readings over two days. */
import assert from 'node:assert/strict';

export const ERR = 'https://uri.etsi.org/ngsi-ld/errors/';
export const SENSOR = 'urn:ngsi-ld:WaterLevelSensor:hirose-001';

/** [observedAt, level] readings: 1, 3, 5 on the 20th and 2, 4, 4 on the 21st (hand-computed below). */
export const READINGS: [string, number][] = [
  ['2026-11-20T00:10:00.000Z', 1],
  ['2026-11-20T00:40:00.000Z', 3],
  ['2026-11-20T01:15:00.000Z', 5],
  ['2026-11-21T00:30:00.000Z', 2],
  ['2026-11-21T02:00:00.000Z', 4],
  ['2026-11-21T02:30:00.000Z', 4],
];

/** The sensor in the temporal representation, as POST /temporal/entities takes it (§5.6.11). */
export function sensorHistory(readings = READINGS) {
  return {
    id: SENSOR,
    type: 'WaterLevelSensor',
    level: readings.map(([observedAt, value]) => ({ type: 'Property', value, unitCode: 'MTR', observedAt })),
    status: [
      { type: 'Property', value: 'normal', observedAt: '2026-11-20T00:10:00Z' },
      { type: 'Property', value: 'warning', observedAt: '2026-11-20T01:15:00Z' },
      { type: 'Property', value: 'normal', observedAt: '2026-11-21T02:30:00Z' },
    ],
  };
}

/** Numbers from float8 arithmetic compared to 12 significant digits; everything else exactly. */
export function assertClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(
      Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)),
      `${path}: ${actual} ≉ ${expected}`,
    );
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array`);
    assert.equal(
      actual.length,
      expected.length,
      `${path} has ${expected.length} items: ${JSON.stringify(actual)}`,
    );
    for (const [i, e] of expected.entries()) {
      assertClose(actual[i], e, `${path}[${i}]`);
    }
    return;
  }
  if (typeof expected === 'object' && expected !== null) {
    assert.equal(typeof actual, 'object', path);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), path);
    for (const [k, e] of Object.entries(expected)) {
      assertClose((actual as Record<string, unknown>)[k], e, `${path}.${k}`);
    }
    return;
  }
  assert.deepEqual(actual, expected, path);
}

export { assertNgsiError } from './helpers.ts';
