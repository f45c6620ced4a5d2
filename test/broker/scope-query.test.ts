/**
 * The scope query language (ETSI GS CIM 009 v1.8 §4.19): `scopeQ` in GET /entities, a Query body,
 * subscriptions and temporal queries. `/A/#` is A and everything below it, `/#` any scope, `+` any
 * one level; `;` AND, `,` OR, parentheses. An entity without scope matches no scopeQ.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidRequest } from '../../src/broker/errors.ts';
import { parseScopeQ, type ScopeQ, scopePattern } from '../../src/broker/query/scope-q.ts';
import type { Worker } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { assertNgsiError, assertThrowsExactly, type BrokerTest, ngsi, startBroker } from './helpers.ts';
import {
  type Receiver,
  sleep,
  startReceiver,
  startWorker,
  subscription,
  waitFor,
} from './subscriptions-helpers.ts';

const scope = (levels: string[], subtree = false): ScopeQ => ({ kind: 'scope', levels, subtree });

const rejects = (text: string, message: string) =>
  assertThrowsExactly(() => parseScopeQ(text), InvalidRequest, message, text);

describe('scopeQ parser (§4.19)', () => {
  it('reads scopes, "+" levels and a trailing "/#"', () => {
    assert.deepEqual(parseScopeQ('/Madrid/Gardens/ParqueNorte'), scope(['Madrid', 'Gardens', 'ParqueNorte']));
    assert.deepEqual(parseScopeQ('/Madrid/#'), scope(['Madrid'], true));
    assert.deepEqual(parseScopeQ('/#'), scope([], true));
    assert.deepEqual(parseScopeQ('/Madrid/+/ParqueNorte'), scope(['Madrid', '+', 'ParqueNorte']));
    assert.deepEqual(parseScopeQ('/宮城県/仙台市'), scope(['宮城県', '仙台市']));
  });

  it('reads a "+" that URL decoding turned into a space as "+"', () => {
    assert.deepEqual(parseScopeQ('/Madrid/ /ParqueNorte'), scope(['Madrid', '+', 'ParqueNorte']));
    assert.deepEqual(parseScopeQ('/Madrid/ ;/X'), {
      kind: 'and',
      items: [scope(['Madrid', '+']), scope(['X'])],
    });
  });

  it('lets ";" bind tighter than "," and "|", and groups with parentheses', () => {
    assert.deepEqual(parseScopeQ('/A;/B,/C'), {
      kind: 'or',
      items: [{ kind: 'and', items: [scope(['A']), scope(['B'])] }, scope(['C'])],
    });
    assert.deepEqual(parseScopeQ('/A;(/B|/C)'), {
      kind: 'and',
      items: [scope(['A']), { kind: 'or', items: [scope(['B']), scope(['C'])] }],
    });
  });

  it('points at the mistake', () => {
    rejects('Madrid', 'scopeQ: a scope starts with "/" at position 1');
    rejects('/Madrid//Gardens', 'scopeQ: a scope level is empty at position 9');
    rejects('/Madrid/', 'scopeQ: a scope does not end with "/" at the end');
    rejects('/', 'scopeQ: expected a scope level after "/" at the end');
    rejects('/Madrid/#/Gardens', 'scopeQ: "#" may only end a scope (as in "/Miyagi/#") at position 9');
    rejects('/Madrid#', 'scopeQ: "#" must be a whole level ("/#") at position 8');
    rejects('/Ma+drid', 'scopeQ: "+" must be a whole level ("/+") at position 4');
    rejects('/Madrid;', 'scopeQ: expected a scope such as "/Miyagi/Sendai" or "(" at the end');
    rejects('(/A,/B', 'scopeQ: expected ",", "|", ";" or ")" (closing the "(" at position 1) at the end');
    rejects('/A /B', 'scopeQ: expected ",", "|", ";" or the end, found "/B" at position 4');
    rejects(' ', 'scopeQ: the query is empty');
  });

  it('escapes every level in the pattern it sends to PostgreSQL', () => {
    assert.equal(scopePattern({ levels: ['Lab', 'v1.0', '+'], subtree: true }), '^/Lab/v1\\.0/[^/]+(/.*)?$');
    assert.equal(scopePattern({ levels: ['a(b)*'], subtree: false }), '^/a\\(b\\)\\*$');
  });
});

/** Entities of 仙台市 with scopes, one without. */
const SCOPED: [string, string | string[] | undefined][] = [
  ['aoba', '/Miyagi/Sendai/Aoba'],
  ['izumi', '/Miyagi/Sendai/Izumi'],
  ['ishinomaki', '/Miyagi/Ishinomaki'],
  ['sendai', ['/Miyagi/Sendai', '/Disaster/Flood']],
  ['unscoped', undefined],
  ['tokyo', '/Tokyo'],
  ['lab-dot', '/Lab/v1.0'],
  ['lab-x', '/Lab/v1x0'],
  ['kana', '/宮城県/仙台市'],
];
const idOf = (name: string) => `urn:ngsi-ld:Sensor:${name}`;
const names = (response: { json(): unknown }) =>
  (response.json() as { id: string }[]).map((e) => e.id.slice(idOf('').length)).sort();

describe(`scopeQ in queries, subscriptions and temporal queries (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    b = await startBroker();
    receiver = await startReceiver();
    worker = startWorker(b.t.db);
    for (const [name, scopes] of SCOPED) {
      const entity = {
        id: idOf(name),
        type: 'Sensor',
        ...(scopes === undefined ? {} : { scope: scopes }),
        level: { type: 'Property', value: 1 },
      };
      const response = await ngsi(b.app, 'POST', '/entities', entity);
      assert.equal(response.statusCode, 201, response.body);
    }
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  const get = (scopeQ: string) =>
    ngsi(b.app, 'GET', `/entities?type=Sensor&scopeQ=${encodeURIComponent(scopeQ)}`);

  it('matches a scope exactly, or with everything below it with "/#"', async () => {
    assert.deepEqual(names(await get('/Miyagi/Sendai')), ['sendai']);
    assert.deepEqual(names(await get('/Miyagi/Sendai/#')), ['aoba', 'izumi', 'sendai']);
    assert.deepEqual(names(await get('/Miyagi')), []);
    assert.deepEqual(names(await get('/宮城県/#')), ['kana']);
  });

  it('"/#" matches every entity that has a scope, and none without', async () => {
    const all = SCOPED.filter(([, s]) => s !== undefined).map(([n]) => n);
    assert.deepEqual(names(await get('/#')), all.sort());
  });

  it('"+" matches exactly one level, anywhere in the scope', async () => {
    assert.deepEqual(names(await get('/Miyagi/+')), ['ishinomaki', 'sendai']);
    assert.deepEqual(names(await get('/Miyagi/+/Aoba')), ['aoba']);
    assert.deepEqual(names(await get('/+/Sendai/#')), ['aoba', 'izumi', 'sendai']);
    // Unencoded in the URL, "+" arrives as a space (form decoding); it still means one level.
    const raw = await ngsi(b.app, 'GET', '/entities?type=Sensor&scopeQ=/Miyagi/+/Aoba');
    assert.deepEqual(names(raw), ['aoba']);
  });

  it('takes a level as written: "." in a scope is no wildcard', async () => {
    assert.deepEqual(names(await get('/Lab/v1.0/#')), ['lab-dot']);
    assert.deepEqual(names(await get('/Lab/+')), ['lab-dot', 'lab-x']);
  });

  it('combines with ";" (AND over the entity’s scopes), "," and "|" (OR) and parentheses', async () => {
    assert.deepEqual(names(await get('/Miyagi/Sendai;/Disaster/#')), ['sendai']);
    assert.deepEqual(names(await get('/Miyagi/Sendai/Aoba;/Disaster/#')), []);
    assert.deepEqual(names(await get('/Tokyo,/Miyagi/Ishinomaki')), ['ishinomaki', 'tokyo']);
    assert.deepEqual(names(await get('(/Tokyo|/Miyagi/+);/Disaster/Flood')), ['sendai']);
    assert.deepEqual(names(await get('/Miyagi/Sendai/#;/Disaster/#,/Tokyo')), ['sendai', 'tokyo']);
  });

  it('answers a malformed scopeQ with InvalidRequest naming the position', async () => {
    const p = assertNgsiError(await get('/Miyagi//Sendai'), 400, 'InvalidRequest');
    assert.equal(p.detail, 'scopeQ: a scope level is empty at position 9');
    const noSlash = assertNgsiError(await get('Miyagi'), 400, 'InvalidRequest');
    assert.equal(noSlash.detail, 'scopeQ: a scope starts with "/" at position 1');
  });

  it('POST entityOperations/query evaluates the scopeQ member', async () => {
    const query = (body: Record<string, unknown>) =>
      ngsi(b.app, 'POST', '/entityOperations/query', { type: 'Query', ...body });
    const found = await query({ entities: [{ type: 'Sensor' }], scopeQ: '/Miyagi/Sendai/#', q: 'level==1' });
    assert.equal(found.statusCode, 200, found.body);
    assert.deepEqual(names(found), ['aoba', 'izumi', 'sendai']);
    const bad = await query({ entities: [{ type: 'Sensor' }], scopeQ: '/Miyagi/#/Sendai' });
    assert.equal(
      assertNgsiError(bad, 400, 'InvalidRequest').detail,
      'scopeQ: "#" may only end a scope (as in "/Miyagi/#") at position 9',
    );
    assertNgsiError(await query({ scopeQ: ['/Miyagi'] }), 400, 'BadRequestData');
  });

  it('GET /temporal/entities selects histories by the entity’s scope', async () => {
    const response = await ngsi(
      b.app,
      'GET',
      `/temporal/entities?scopeQ=${encodeURIComponent('/Miyagi/Sendai/#')}`,
    );
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(names(response), ['aoba', 'izumi', 'sendai']);
  });

  it('a subscription with scopeQ notifies only changes of entities in scope, and shows its scopeQ', async () => {
    const created = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/sendai', {
        entities: [{ type: 'Sensor' }],
        scopeQ: '/Miyagi/Sendai/#',
        notificationTrigger: ['attributeUpdated'],
      }),
    );
    assert.equal(created.statusCode, 201, created.body);
    const subId = decodeURIComponent(String(created.headers.location).split('/').pop() ?? '');
    const shown = (await ngsi(b.app, 'GET', `/subscriptions/${encodeURIComponent(subId)}`)).json();
    assert.equal(shown.scopeQ, '/Miyagi/Sendai/#');
    for (const name of ['unscoped', 'tokyo', 'izumi', 'ishinomaki']) {
      const patched = await ngsi(b.app, 'PATCH', `/entities/${encodeURIComponent(idOf(name))}/attrs`, {
        level: { type: 'Property', value: 2 },
      });
      assert.equal(patched.statusCode, 204, patched.body);
    }
    await waitFor('the notification', () => receiver.on('/sendai').length === 1);
    await sleep(300);
    assert.deepEqual(
      receiver.on('/sendai').map((r) => r.body.data[0]?.id),
      [idOf('izumi')],
    );
  });

  it('a periodic subscription with scopeQ sends the entities in scope now', async () => {
    const created = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/periodic', {
        entities: [{ type: 'Sensor' }],
        scopeQ: '/Miyagi/+',
        timeInterval: 60,
      }),
    );
    assert.equal(created.statusCode, 201, created.body);
    await waitFor('the periodic notification', () => receiver.on('/periodic').length === 1);
    assert.deepEqual(
      receiver.on('/periodic')[0]?.body.data.map((e) => e.id),
      [idOf('ishinomaki'), idOf('sendai')],
    );
  });

  it('refuses a subscription with a malformed scopeQ', async () => {
    const response = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/never', { entities: [{ type: 'Sensor' }], scopeQ: '/Miyagi;' }),
    );
    const p = assertNgsiError(response, 400, 'InvalidRequest');
    assert.equal(p.detail, 'scopeQ: expected a scope such as "/Miyagi/Sendai" or "(" at the end');
  });
});
