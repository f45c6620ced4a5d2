/**
 * Every broker endpoint meets malformed bodies and parameters with a client error and a problem
 * document, never a 5xx: a client's mistake is never the server's failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backend } from '../helpers/db.ts';
import { type BrokerTest, ngsi, shelter, startBroker } from './helpers.ts';

const ONE = '/entities/urn:ngsi-ld:Shelter:sendai-001';

const BODIES = [
  '"x"',
  'null',
  '123',
  '[]',
  '[1,2]',
  '{"id":5}',
  JSON.stringify({ id: 'urn:a:c', type: ['T', 5] }),
  JSON.stringify({
    id: 'urn:a:d',
    type: 'T',
    location: { type: 'GeoProperty', value: { type: 'Polygon', coordinates: [[[0, 0]]] } },
  }),
  JSON.stringify({ id: 'urn:a:e', type: 'T', r: { type: 'Relationship', object: [] } }),
  JSON.stringify({ id: 'urn:a:f', type: 'T', v: { type: 'VocabProperty', vocab: [] } }),
];

const WRITES: [string, string][] = [
  ['POST', '/entities'],
  ['PATCH', `${ONE}/attrs`],
  ['POST', `${ONE}/attrs`],
  ['PATCH', ONE],
  ['PUT', ONE],
  ['PATCH', `${ONE}/attrs/capacity`],
  ['PUT', `${ONE}/attrs/capacity`],
  ['POST', '/entityOperations/create'],
  ['POST', '/entityOperations/upsert'],
  ['POST', '/entityOperations/update'],
  ['POST', '/entityOperations/delete'],
  ['POST', '/entityOperations/merge'],
  ['POST', '/entityOperations/query'],
  ['POST', '/subscriptions'],
  ['PATCH', '/subscriptions/urn:ngsi-ld:Subscription:none'],
  ['POST', '/temporal/entities'],
  ['POST', `/temporal${ONE}/attrs`],
  ['POST', '/jsonldContexts'],
];

const READS = [
  '/entities?q=%FF',
  '/entities?type=%20',
  '/entities?attrs=,,',
  '/entities/%ZZ',
  '/types/%20',
  '/temporal/entities?type=T&timerel=after&timeAt=2026-13-40T00:00:00Z',
  '/temporal/entities?type=T&timerel=between&timeAt=2026-01-01T00:00:00Z&endTimeAt=2025-01-01T00:00:00Z&aggrMethods=avg&aggrPeriodDuration=PT0.000001S',
  `/entities?georel=${encodeURIComponent('near;maxDistance==-1')}&geometry=Point&coordinates=${encodeURIComponent('[0,0]')}`,
  '/entities?limit=99999999999999999999',
  '/subscriptions?limit=abc',
  '/entities?idPattern=a%7B99999%7D',
  `/entities?q=${encodeURIComponent('name~=a**')}`,
];

describe(`the broker and bad input (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
    await ngsi(b.app, 'POST', '/entities', shelter(1));
  });
  after(() => b?.close());

  it('answers malformed bodies on every write endpoint without a server error', async () => {
    const failures: string[] = [];
    for (const [method, path] of WRITES) {
      for (const body of BODIES) {
        const response = await ngsi(b.app, method as 'POST', path, body);
        if (response.statusCode >= 500) {
          failures.push(`${method} ${path} ${body} → ${response.statusCode} ${response.body.slice(0, 160)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('answers malformed query parameters with a 4xx problem document', async () => {
    for (const path of READS) {
      const response = await ngsi(b.app, 'GET', path);
      assert.ok(
        response.statusCode >= 400 && response.statusCode < 500,
        `${path} → ${response.statusCode} ${response.body}`,
      );
      assert.match(
        String(response.json().type),
        /^(https:\/\/uri\.etsi\.org\/ngsi-ld\/errors\/|urn:machi:problem:)/,
        path,
      );
    }
  });
});
