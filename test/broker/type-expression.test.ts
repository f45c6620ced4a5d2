/**
 * The entity type selection language (ETSI GS CIM 009 v1.8 §4.17): `,`/`|` OR, `;` AND (an entity
 * with several types), parentheses; in GET /entities, a Query body, subscriptions and temporal queries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidRequest } from '../../src/broker/errors.ts';
import {
  formatTypeExpr,
  matchesTypeExpr,
  parseTypeExpr,
  type TypeExpr,
} from '../../src/broker/query/type-expr.ts';
import type { Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import {
  assertNgsiError,
  assertThrowsExactly,
  type BrokerTest,
  DEFAULT_VOCAB,
  ngsi,
  startBroker,
} from './helpers.ts';
import {
  type Receiver,
  sleep,
  startReceiver,
  startWorker,
  subscription,
  waitFor,
} from './subscriptions-helpers.ts';

const t = (name: string): TypeExpr => ({ kind: 'type', name });
const and = (...items: TypeExpr[]): TypeExpr => ({ kind: 'and', items });
const or = (...items: TypeExpr[]): TypeExpr => ({ kind: 'or', items });

const rejects = (text: string, message: string) =>
  assertThrowsExactly(() => parseTypeExpr(text), InvalidRequest, message, text);

describe('type selection parser (§4.17)', () => {
  it('reads one type, a comma list and a pipe list as OR', () => {
    assert.deepEqual(parseTypeExpr('Shelter'), t('Shelter'));
    assert.deepEqual(parseTypeExpr('Shelter,Park'), or(t('Shelter'), t('Park')));
    assert.deepEqual(parseTypeExpr('Shelter|Park , School'), or(t('Shelter'), t('Park'), t('School')));
  });

  it('lets ";" bind tighter than "," and "|", and groups with parentheses', () => {
    assert.deepEqual(
      parseTypeExpr('School;Shelter,Hospital'),
      or(and(t('School'), t('Shelter')), t('Hospital')),
    );
    assert.deepEqual(
      parseTypeExpr('School;(Shelter,Hospital)'),
      and(t('School'), or(t('Shelter'), t('Hospital'))),
    );
    assert.deepEqual(parseTypeExpr('((A;B);C)'), and(t('A'), t('B'), t('C')));
  });

  it('keeps compact IRIs and full IRIs as names', () => {
    assert.deepEqual(
      parseTypeExpr('schema:Place;https://example.org/vocab#Shelter'),
      and(t('schema:Place'), t('https://example.org/vocab#Shelter')),
    );
  });

  it('points at the mistake', () => {
    rejects('Shelter;', 'type: expected a type name or "(" at the end');
    rejects('Shelter,,Park', 'type: expected a type name or "(", found "," at position 9');
    rejects(
      '(Shelter|Park',
      'type: expected ",", "|", ";" or ")" (closing the "(" at position 1) at the end',
    );
    rejects('Shelter)', 'type: expected ",", "|", ";" or the end, found ")" at position 8');
    rejects('Shelter Park', 'type: expected ",", "|", ";" or the end, found "Park" at position 9');
    rejects(
      'Shel=ter',
      'type: "=" cannot be part of a type name (§4.6.2 forbids < > " \' = [ ] \\) at position 5',
    );
    rejects('()', 'type: expected a type name or "(", found ")" at position 2');
    rejects('  ', 'type is given but names no type');
    rejects(
      `${'('.repeat(17)}A${')'.repeat(17)}`,
      'type: parentheses are nested deeper than 16 levels at position 17',
    );
  });

  it('tests an entity’s types and writes the expression back', () => {
    const expr = parseTypeExpr('(School|Park);Shelter');
    assert.equal(matchesTypeExpr(expr, ['Shelter', 'School']), true);
    assert.equal(matchesTypeExpr(expr, ['Shelter']), false);
    assert.equal(matchesTypeExpr(expr, ['School', 'Park']), false);
    assert.equal(formatTypeExpr(expr), '(School|Park);Shelter');
  });
});

/** Facilities of 仙台市 with one or more types: a school that is also a shelter, and so on. */
const FACILITIES: [number, string[]][] = [
  [1, ['Shelter', 'School']],
  [2, ['Shelter']],
  [3, ['School']],
  [4, ['Park', 'Shelter']],
  [5, ['Hospital']],
];
const idOf = (n: number) => `urn:ngsi-ld:Facility:sendai-${n}`;
const facility = (n: number, types: string[]) => ({
  id: idOf(n),
  type: types,
  capacity: { type: 'Property', value: 100 * n },
});
const ids = (response: { json(): unknown }) =>
  (response.json() as { id: string }[]).map((e) => Number(e.id.split('-').pop()));

describe(`type selections in queries, subscriptions and temporal queries (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    b = await startBroker();
    receiver = await startReceiver();
    worker = startWorker(b.t.db);
    for (const [n, types] of FACILITIES) {
      const response = await ngsi(b.app, 'POST', '/entities', facility(n, types));
      assert.equal(response.statusCode, 201, response.body);
    }
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  const get = (type: string, extra = '') =>
    ngsi(b.app, 'GET', `/entities?type=${encodeURIComponent(type)}${extra}`);

  it('GET /entities: "," and "|" select any of the types, ";" entities with all of them', async () => {
    assert.deepEqual(ids(await get('Shelter,School')), [1, 2, 3, 4]);
    assert.deepEqual(ids(await get('Shelter|Hospital')), [1, 2, 4, 5]);
    assert.deepEqual(ids(await get('Shelter;School')), [1]);
    assert.deepEqual(ids(await get('Shelter;School;Park')), []);
  });

  it('GET /entities: parentheses group, and ";" binds tighter than ","', async () => {
    assert.deepEqual(ids(await get('(School|Park);Shelter')), [1, 4]);
    assert.deepEqual(ids(await get('School;Shelter,Hospital')), [1, 5]);
    assert.deepEqual(ids(await get('School;(Shelter,Hospital)')), [1]);
  });

  it('GET /entities: expands every name with the @context, and combines with q and counting', async () => {
    assert.deepEqual(ids(await get(`${DEFAULT_VOCAB}Shelter;School`)), [1]);
    const counted = await get('Shelter;(School|Park)', '&q=capacity>150&count=true');
    assert.deepEqual(ids(counted), [4]);
    assert.equal(counted.headers['ngsild-results-count'], '1');
  });

  it('GET /entities: answers a malformed selection with InvalidRequest naming the position', async () => {
    const p = assertNgsiError(await get('Shelter;(School'), 400, 'InvalidRequest');
    assert.equal(p.detail, 'type: expected ",", "|", ";" or ")" (closing the "(" at position 9) at the end');
    const empty = assertNgsiError(await ngsi(b.app, 'GET', '/entities?type='), 400, 'InvalidRequest');
    assert.equal(empty.detail, 'type is given but names no type');
  });

  it('POST entityOperations/query: entities[].type takes a selection too', async () => {
    const query = (entities: unknown[]) =>
      ngsi(b.app, 'POST', '/entityOperations/query', { type: 'Query', entities });
    assert.deepEqual(ids(await query([{ type: '(School|Park);Shelter' }])), [1, 4]);
    assert.deepEqual(ids(await query([{ type: 'Shelter;School' }, { type: 'Hospital' }])), [1, 5]);
    assert.deepEqual(ids(await query([{ type: 'Shelter;Park', id: idOf(1) }])), []);
    const p = assertNgsiError(await query([{ type: 'Shelter' }, { type: 'School;' }]), 400, 'InvalidRequest');
    assert.equal(p.detail, 'entities[1].type: expected a type name or "(" at the end');
  });

  it('GET /temporal/entities: selects histories by the same language', async () => {
    const response = await ngsi(
      b.app,
      'GET',
      `/temporal/entities?type=${encodeURIComponent('School;Shelter')}`,
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(ids(response), [1]);
    const bad = await ngsi(b.app, 'GET', '/temporal/entities?type=School%3B%3BShelter');
    assert.equal(
      assertNgsiError(bad, 400, 'InvalidRequest').detail,
      'type: expected a type name or "(", found ";" at position 8',
    );
  });

  it('a subscription notifies only changes of entities its type selection matches', async () => {
    const created = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/school-shelters', {
        entities: [{ type: 'School;Shelter' }],
        notificationTrigger: ['attributeUpdated'],
      }),
    );
    assert.equal(created.statusCode, 201, created.body);
    const subId = decodeURIComponent(String(created.headers.location).split('/').pop() ?? '');
    assert.deepEqual(
      (await ngsi(b.app, 'GET', `/subscriptions/${encodeURIComponent(subId)}`)).json().entities,
      [{ type: 'School;Shelter' }],
    );
    for (const n of [2, 3, 1]) {
      const patched = await ngsi(b.app, 'PATCH', `/entities/${encodeURIComponent(idOf(n))}/attrs`, {
        capacity: { type: 'Property', value: 1000 + n },
      });
      assert.equal(patched.statusCode, 204, patched.body);
    }
    await waitFor('the notification', () => receiver.on('/school-shelters').length === 1);
    await sleep(300);
    assert.deepEqual(
      receiver.on('/school-shelters').map((r) => r.body.data[0]?.id),
      [idOf(1)],
    );
  });

  it('a periodic subscription sends the entities its type selection matches now', async () => {
    const created = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/periodic', {
        entities: [{ type: '(School|Park);Shelter' }],
        timeInterval: 60,
      }),
    );
    assert.equal(created.statusCode, 201, created.body);
    await waitFor('the periodic notification', () => receiver.on('/periodic').length === 1);
    assert.deepEqual(
      receiver.on('/periodic')[0]?.body.data.map((e) => e.id),
      [idOf(1), idOf(4)],
    );
  });

  it('refuses a subscription whose type selection is malformed, naming the selector', async () => {
    const response = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/never', { entities: [{ type: 'Shelter' }, { type: '(School' }] }),
    );
    const p = assertNgsiError(response, 400, 'InvalidRequest');
    assert.equal(
      p.detail,
      'entities[1].type: expected ",", "|", ";" or ")" (closing the "(" at position 1) at the end',
    );
  });
});
