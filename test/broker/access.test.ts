/**
 * Attacks on the broker's access rules (authorise.ts): an anonymous caller tries to read entities of
 * types that are not public, and to read or write personal ones, through every route that reaches
 * entities — by id, by query, by batch query, through the temporal API, discovery and subscriptions.
 * In 仙台市, AED is public (the demo marks the open data's types public), Shelter is neither public
 * nor personal, and Resident is marked personal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorise } from '../../src/broker/authorise.ts';
import {
  brokerJobHandlers,
  entityImporter,
  loadBrokerConfig,
  markEntityTypes,
} from '../../src/broker/index.ts';
import { AppError, type Db, OutboundPolicy, Worker } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import { assertNgsiError, type BrokerTest, ngsi, SENDAI, shelter, startBroker } from './helpers.ts';
import { type Receiver, sleep, startReceiver, subscription, waitFor } from './subscriptions-helpers.ts';

const RESIDENT = 'https://uri.etsi.org/ngsi-ld/default-context/Resident';

function aed(n: number) {
  return {
    id: `urn:ngsi-ld:AED:sendai-${n}`,
    type: 'AED',
    name: { type: 'Property', value: `AED ${n}` },
    installationPlace: { type: 'Property', value: '1階ロビー' },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.872 + n / 1000, 38.26] } },
  };
}

function resident(n: number) {
  return {
    id: `urn:ngsi-ld:Resident:${n}`,
    type: 'Resident',
    name: { type: 'Property', value: '青葉 花子' },
    birthDate: { type: 'Property', value: '1990-04-01' },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.8721, 38.2601] } },
  };
}

/** Writes entities as Machi's own importers do: no HTTP, no access decision. */
async function seed(db: Db, entities: unknown[]) {
  await entityImporter(db, { contextTimeoutMs: 5000, contextMaxBytes: 1 << 20 })(SENDAI, entities);
}

const ids = (response: { json(): unknown }) => (response.json() as { id: string }[]).map((e) => e.id).sort();

/** A refused entity must look exactly like a missing one: same status, type, title and detail. */
function assertLooksMissing(response: { statusCode: number; json(): unknown }, missing: typeof response) {
  const refused = response.json() as Record<string, unknown>;
  const absent = missing.json() as Record<string, unknown>;
  assert.equal(response.statusCode, missing.statusCode, JSON.stringify(refused));
  assert.deepEqual(
    { ...refused, detail: String(refused.detail).replace(/urn:ngsi-ld:\S+/, 'ID') },
    { ...absent, detail: String(absent.detail).replace(/urn:ngsi-ld:\S+/, 'ID') },
  );
}

describe(`anonymous callers with MACHI_AUTH=on (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker({ MACHI_AUTH: 'on' });
    await markEntityTypes(b.t.db, SENDAI, { personal: ['Resident'] });
    await seed(b.t.db, [aed(1), aed(2), shelter(1), shelter(2), resident(1)]);
  });
  after(() => b.close());

  it('reads a public entity by id, and gets 404 for any other as if it did not exist', async () => {
    assert.equal((await ngsi(b.app, 'GET', `/entities/${aed(1).id}`)).statusCode, 200);
    const missing = await ngsi(b.app, 'GET', '/entities/urn:ngsi-ld:Shelter:nowhere');
    assertNgsiError(missing, 404, 'ResourceNotFound');
    assertLooksMissing(await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`), missing);
    assertLooksMissing(await ngsi(b.app, 'GET', `/entities/${resident(1).id}`), missing);
  });

  it('keeps every query to public types, whatever it asks for', async () => {
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/entities?type=Shelter')), []);
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/entities?type=Resident')), []);
    assert.deepEqual(ids(await ngsi(b.app, 'GET', `/entities?id=${shelter(1).id}`)), []);
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/entities?type=AED,Shelter')), [aed(1).id, aed(2).id]);
    const all = await ngsi(b.app, 'GET', '/entities?idPattern=.*&count=true');
    assert.deepEqual(ids(all), [aed(1).id, aed(2).id]);
    assert.equal(all.headers['ngsild-results-count'], '2', 'the count leaks nothing either');
    const near = await ngsi(
      b.app,
      'GET',
      '/entities?idPattern=.*&georel=near;maxDistance==2000&geometry=Point&coordinates=[140.872,38.26]',
    );
    assert.deepEqual(ids(near), [aed(1).id, aed(2).id]);
    assert.deepEqual(
      ids(await ngsi(b.app, 'GET', '/entities?idPattern=.*&q=birthDate==%221990-04-01%22')),
      [],
    );
  });

  it('keeps a batch query to public types', async () => {
    const body = {
      type: 'Query',
      entities: [{ type: 'Shelter' }, { type: 'Resident' }, { idPattern: '.*' }],
    };
    const response = await ngsi(b.app, 'POST', '/entityOperations/query', body);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(ids(response), [aed(1).id, aed(2).id]);
  });

  it('keeps the temporal API to public types', async () => {
    assert.equal((await ngsi(b.app, 'GET', `/temporal/entities/${aed(1).id}`)).statusCode, 200);
    const missing = await ngsi(b.app, 'GET', '/temporal/entities/urn:ngsi-ld:Shelter:nowhere');
    assertNgsiError(missing, 404, 'ResourceNotFound');
    assertLooksMissing(await ngsi(b.app, 'GET', `/temporal/entities/${shelter(1).id}`), missing);
    assertLooksMissing(await ngsi(b.app, 'GET', `/temporal/entities/${resident(1).id}`), missing);
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/temporal/entities?type=Shelter')), []);
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/temporal/entities?idPattern=.*')), [
      aed(1).id,
      aed(2).id,
    ]);
  });

  it('names in discovery only the types and attributes of public entities', async () => {
    const types = (await ngsi(b.app, 'GET', '/types')).json() as { typeList: string[] };
    assert.deepEqual(types.typeList, ['AED']);
    const details = (await ngsi(b.app, 'GET', '/types?details=true')).json() as { typeName: string }[];
    assert.deepEqual(
      details.map((t) => t.typeName),
      ['AED'],
    );
    assertNgsiError(await ngsi(b.app, 'GET', '/types/Shelter'), 404, 'ResourceNotFound');
    assertNgsiError(await ngsi(b.app, 'GET', '/types/Resident'), 404, 'ResourceNotFound');
    assert.equal((await ngsi(b.app, 'GET', '/types/AED')).json().entityCount, 2);
    const attributes = (await ngsi(b.app, 'GET', '/attributes')).json() as { attributeList: string[] };
    assert.deepEqual(attributes.attributeList, ['installationPlace', 'location', 'name']);
    assertNgsiError(await ngsi(b.app, 'GET', '/attributes/birthDate'), 404, 'ResourceNotFound');
    assertNgsiError(await ngsi(b.app, 'GET', '/attributes/capacity'), 404, 'ResourceNotFound');
    const name = (await ngsi(b.app, 'GET', '/attributes/name')).json();
    assert.deepEqual([name.typeNames, name.attributeCount], [['AED'], 2]);
    const all = (await ngsi(b.app, 'GET', '/attributes?details=true')).json() as { typeNames: string[] }[];
    assert.deepEqual([...new Set(all.flatMap((a) => a.typeNames))], ['AED']);
  });

  it('refuses anonymous callers subscriptions (they name endpoints and credentials) and every write', async () => {
    assert.equal((await ngsi(b.app, 'GET', '/subscriptions')).statusCode, 401);
    assert.equal((await ngsi(b.app, 'GET', '/subscriptions/urn:ngsi-ld:Subscription:x')).statusCode, 401);
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(9))).statusCode, 401);
    const batch = await ngsi(b.app, 'POST', '/entityOperations/upsert', [aed(3)]);
    assert.equal(batch.statusCode, 401);
    assert.equal((await ngsi(b.app, 'DELETE', `/temporal/entities/${aed(1).id}`)).statusCode, 401);
  });
});

describe(`notifications of anonymous subscriptions with MACHI_AUTH=on (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    // Subscriptions made anonymously while the broker ran with MACHI_AUTH=off; the worker now runs with on.
    b = await startBroker({ MACHI_AUTH: 'off' });
    await markEntityTypes(b.t.db, SENDAI, { personal: ['Resident'] });
    await seed(b.t.db, [aed(1), shelter(1)]);
    receiver = await startReceiver();
    worker = new Worker(b.t.db, {
      handlers: brokerJobHandlers(b.t.db, loadBrokerConfig({ MACHI_AUTH: 'on' }), {
        outbound: new OutboundPolicy(testConfig()),
      }),
      pollIntervalMs: 20,
      backoffBaseSeconds: 0.05,
    });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  const entitiesIn = (path: string) => receiver.on(path).flatMap((r) => r.body.data.map((e) => String(e.id)));

  it('notifies changes of public entities only', async () => {
    const sub = subscription(receiver, '/changes', { entities: [{ type: 'Shelter' }, { type: 'AED' }] });
    assert.equal((await ngsi(b.app, 'POST', '/subscriptions', sub)).statusCode, 201);
    await seed(b.t.db, [shelter(1, { capacity: { type: 'Property', value: 5 } })]);
    await seed(b.t.db, [{ ...aed(1), installationPlace: { type: 'Property', value: '2階' } }]);
    await waitFor('the AED notification', () => entitiesIn('/changes').includes(aed(1).id));
    await sleep(300);
    assert.deepEqual(entitiesIn('/changes'), [aed(1).id]);
  });

  it('sends periodic notifications of public entities only', async () => {
    const sub = subscription(receiver, '/periodic', {
      entities: [{ type: 'Shelter' }, { type: 'AED' }],
      timeInterval: 1,
    });
    assert.equal((await ngsi(b.app, 'POST', '/subscriptions', sub)).statusCode, 201);
    await waitFor('a periodic notification', () => receiver.on('/periodic').length > 0);
    assert.deepEqual(
      receiver.on('/periodic')[0]?.body.data.map((e) => e.id),
      [aed(1).id],
    );
  });
});

describe(`personal entities with MACHI_AUTH=off (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    b = await startBroker({ MACHI_AUTH: 'off' });
    await markEntityTypes(b.t.db, SENDAI, { personal: ['Resident'] });
    await seed(b.t.db, [resident(1), shelter(1)]);
    receiver = await startReceiver();
    worker = new Worker(b.t.db, {
      handlers: brokerJobHandlers(b.t.db, loadBrokerConfig({ MACHI_AUTH: 'off' }), {
        outbound: new OutboundPolicy(testConfig()),
      }),
      pollIntervalMs: 20,
      backoffBaseSeconds: 0.05,
    });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  /** The stored resident, read past the broker: it must never change. */
  const storedResident = () =>
    b.t.db.withTenant(SENDAI, async (tx) => {
      const { rows } = await tx.query('select types, attrs from broker.entities where id = $1', [
        resident(1).id,
      ]);
      return rows[0];
    });

  it('lets anonymous callers read and write entities of types that are not personal', async () => {
    assert.equal((await ngsi(b.app, 'POST', '/entities', shelter(2))).statusCode, 201);
    assert.equal((await ngsi(b.app, 'GET', `/entities/${shelter(2).id}`)).statusCode, 200);
    const patch = await ngsi(b.app, 'PATCH', `/entities/${shelter(2).id}/attrs`, {
      capacity: { type: 'Property', value: 7 },
    });
    assert.equal(patch.statusCode, 204, patch.body);
    assert.equal((await ngsi(b.app, 'DELETE', `/entities/${shelter(2).id}`)).statusCode, 204);
  });

  it('refuses to create a personal entity, saying that it needs a token and consent', async () => {
    const refused = assertNgsiRefusal(await ngsi(b.app, 'POST', '/entities', resident(2)));
    assert.match(refused, /personal data/);
    assert.match(refused, /consent/);
    assertNgsiError(await ngsi(b.app, 'GET', `/entities/${resident(2).id}`), 404, 'ResourceNotFound');
  });

  it('refuses personal entities in a batch entity by entity, and writes the others', async () => {
    const create = await ngsi(b.app, 'POST', '/entityOperations/create', [shelter(10), resident(2)]);
    assert.equal(create.statusCode, 207, create.body);
    const result = create.json();
    assert.deepEqual(result.success, [shelter(10).id]);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0].entityId, resident(2).id);
    assert.equal(result.errors[0].error.status, 401);
    assert.match(result.errors[0].error.detail, /consent/);
    assert.equal((await ngsi(b.app, 'GET', `/entities/${shelter(10).id}`)).statusCode, 200);

    const before = await storedResident();
    const asShelter = { ...shelter(11), id: resident(1).id };
    for (const [op, body] of [
      ['upsert', [asShelter]],
      ['upsert?options=update', [asShelter]],
      ['update', [asShelter]],
      ['merge', [asShelter]],
      ['delete', [resident(1).id]],
    ] as const) {
      const response = await ngsi(b.app, 'POST', `/entityOperations/${op}`, body);
      assert.equal(response.statusCode, 207, `${op}: ${response.body}`);
      const [error] = response.json().errors;
      assert.equal(error.error.type, 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound', op);
      assert.equal(error.error.detail, `no entity ${resident(1).id}`, op);
    }
    assert.deepEqual(await storedResident(), before);
  });

  it('answers every write of a stored personal entity exactly as for a missing one', async () => {
    const before = await storedResident();
    const attrs = { name: { type: 'Property', value: '書き換え' } };
    const writes: [string, string, unknown?][] = [
      ['PATCH', '', { type: 'Resident', ...attrs }],
      ['PUT', '', { type: 'Shelter', ...attrs }],
      ['DELETE', ''],
      ['POST', '/attrs', attrs],
      ['PATCH', '/attrs', attrs],
      ['PATCH', '/attrs/name', { type: 'Property', value: 'x' }],
      ['PUT', '/attrs/name', { type: 'Property', value: 'x' }],
      ['DELETE', '/attrs/name'],
    ];
    for (const [method, path, body] of writes) {
      const missing = await ngsi(b.app, method as 'GET', `/entities/urn:ngsi-ld:Resident:none${path}`, body);
      const refused = await ngsi(b.app, method as 'GET', `/entities/${resident(1).id}${path}`, body);
      assertLooksMissing(refused, missing);
    }
    assert.deepEqual(await storedResident(), before);
  });

  it('does not let a write make an entity personal', async () => {
    const replaced = await ngsi(b.app, 'PUT', `/entities/${shelter(1).id}`, {
      type: ['Shelter', 'Resident'],
      name: { type: 'Property', value: 'x' },
    });
    assert.equal(replaced.statusCode, 401, replaced.body);
    assert.match(replaced.json().detail, /consent/);
    const upsert = await ngsi(b.app, 'POST', '/entityOperations/upsert', [
      { ...resident(3), id: shelter(1).id },
    ]);
    assert.equal(upsert.statusCode, 207);
    assert.equal(upsert.json().errors[0].error.status, 401);
    const stored = (await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`)).json();
    assert.equal(stored.type, 'Shelter');
  });

  it('hides personal entities from every read, discovery included', async () => {
    assertNgsiError(await ngsi(b.app, 'GET', `/entities/${resident(1).id}`), 404, 'ResourceNotFound');
    const all = ids(await ngsi(b.app, 'GET', '/entities?idPattern=.*&limit=100'));
    assert.ok(all.includes(shelter(1).id));
    assert.ok(!all.includes(resident(1).id));
    assert.deepEqual(ids(await ngsi(b.app, 'GET', '/entities?type=Resident')), []);
    const query = await ngsi(b.app, 'POST', '/entityOperations/query', {
      type: 'Query',
      entities: [{ type: 'Resident' }],
    });
    assert.deepEqual(ids(query), []);
    const types = (await ngsi(b.app, 'GET', '/types')).json() as { typeList: string[] };
    assert.ok(types.typeList.includes('Shelter'));
    assert.ok(!types.typeList.includes('Resident'));
    assert.ok(!(await ngsi(b.app, 'GET', '/attributes')).json().attributeList.includes('birthDate'));
    assertNgsiError(
      await ngsi(b.app, 'GET', `/temporal/entities/${resident(1).id}`),
      404,
      'ResourceNotFound',
    );
    assert.ok(!ids(await ngsi(b.app, 'GET', '/temporal/entities?idPattern=.*')).includes(resident(1).id));
  });

  it('refuses personal entities in the temporal API', async () => {
    const history = {
      id: resident(5).id,
      type: 'Resident',
      name: [{ type: 'Property', value: 'x', observedAt: '2026-01-01T00:00:00Z' }],
    };
    assert.match(assertNgsiRefusal(await ngsi(b.app, 'POST', '/temporal/entities', history)), /consent/);
    const appended = await ngsi(b.app, 'POST', `/temporal/entities/${resident(1).id}/attrs`, {
      name: [{ type: 'Property', value: 'x', observedAt: '2026-01-01T00:00:00Z' }],
    });
    assertNgsiError(appended, 404, 'ResourceNotFound');
    const missing = await ngsi(b.app, 'DELETE', '/temporal/entities/urn:ngsi-ld:Resident:none');
    assertLooksMissing(await ngsi(b.app, 'DELETE', `/temporal/entities/${resident(1).id}`), missing);
    const missingAttr = await ngsi(
      b.app,
      'DELETE',
      '/temporal/entities/urn:ngsi-ld:Resident:none/attrs/name',
    );
    assertLooksMissing(
      await ngsi(b.app, 'DELETE', `/temporal/entities/${resident(1).id}/attrs/name`),
      missingAttr,
    );
  });

  it('refuses a subscription to a personal type, and never notifies a personal entity', async () => {
    const refused = await ngsi(
      b.app,
      'POST',
      '/subscriptions',
      subscription(receiver, '/r', { entities: [{ type: 'Resident' }] }),
    );
    assert.match(assertNgsiRefusal(refused), /consent/);
    const watching = subscription(receiver, '/any', { entities: undefined, watchedAttributes: ['name'] });
    assert.equal((await ngsi(b.app, 'POST', '/subscriptions', watching)).statusCode, 201);
    await seed(b.t.db, [{ ...resident(1), name: { type: 'Property', value: '青葉 次郎' } }]);
    await ngsi(b.app, 'POST', '/entities', shelter(20));
    await waitFor('the Shelter notification', () =>
      receiver.on('/any').some((r) => r.body.data.some((e) => e.id === shelter(20).id)),
    );
    await sleep(300);
    const notified = receiver.on('/any').flatMap((r) => r.body.data.map((e) => e.id));
    assert.ok(!notified.includes(resident(1).id), JSON.stringify(notified));
  });

  it('applies a change of a tenant type classes at once in this process', async () => {
    await markEntityTypes(b.t.db, SENDAI, { personal: ['Shelter'] });
    assertNgsiError(await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`), 404, 'ResourceNotFound');
    await markEntityTypes(b.t.db, SENDAI, { unmark: ['Shelter'] });
    assert.equal((await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`)).statusCode, 200);
  });
});

describe('callers with a token (authorise.ts, before the identity provider issues tokens)', () => {
  const policy = {
    auth: 'on' as const,
    rules: { public: new Set<string>(), personal: new Set([RESIDENT]) },
  };
  const caller = { subject: 'pairwise-subject-1' };

  it('asks even a caller with a token for the resident’s consent before a personal entity', () => {
    const entity = { id: 'urn:ngsi-ld:Resident:1', types: [RESIDENT] };
    assert.throws(
      () => authorise({ caller, tenant: SENDAI, action: 'write', entity }, policy),
      (error: unknown) =>
        error instanceof AppError &&
        error.status === 403 &&
        error.type === 'urn:machi:problem:consent-required' &&
        /consent/.test(error.message),
    );
  });

  it('lets a caller with a token read and write entities that are neither public nor personal', () => {
    const entity = {
      id: 'urn:ngsi-ld:Shelter:1',
      types: ['https://uri.etsi.org/ngsi-ld/default-context/Shelter'],
    };
    authorise({ caller, tenant: SENDAI, action: 'read', entity: { ...entity, stored: true } }, policy);
    authorise({ caller, tenant: SENDAI, action: 'write', entity }, policy);
  });
});

/** A refusal with a reason (401 or 403 with a Machi problem type); returns its detail. */
function assertNgsiRefusal(response: { statusCode: number; json(): unknown }): string {
  const body = response.json() as { type: string; detail: string };
  assert.ok([401, 403].includes(response.statusCode), JSON.stringify(body));
  assert.match(body.type, /^urn:machi:problem:(unauthorized|consent-required)$/);
  return body.detail;
}
