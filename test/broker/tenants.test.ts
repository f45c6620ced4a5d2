/**
 * NGSILD-Tenant by 全国地方公共団体コード or registered alias: a request names its municipality either
 * way, lands in the same tenant, and everything the broker answers or sends carries the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { buildApp } from '../../src/main.ts';
import { addTenant, addTenantAliases, listTenants, type Worker } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';
import {
  assertNgsiError,
  type BrokerTest,
  ISHINOMAKI,
  ngsi,
  SENDAI,
  shelter,
  startBroker,
} from './helpers.ts';
import { type Receiver, startReceiver, startWorker, subscription, waitFor } from './subscriptions-helpers.ts';

describe(`NGSILD-Tenant by code or alias (${backend})`, () => {
  let b: BrokerTest;
  let receiver: Receiver;
  let worker: Worker;
  before(async () => {
    b = await startBroker();
    receiver = await startReceiver();
    worker = startWorker(b.t.db);
  });
  after(async () => {
    await worker.stop();
    await receiver.close();
    await b.close();
  });

  it('serves the same tenant whether a request names it by code or by alias', async () => {
    const created = await ngsi(b.app, 'POST', '/entities', shelter(1), { 'ngsild-tenant': 'sendai' });
    assert.equal(created.statusCode, 201, created.body);
    const byCode = await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`, undefined, {
      'ngsild-tenant': SENDAI,
    });
    assert.equal(byCode.statusCode, 200, byCode.body);
    const upperCase = await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`, undefined, {
      'ngsild-tenant': 'Sendai',
    });
    assert.equal(upperCase.statusCode, 200, 'an alias is matched whatever its case');
    const elsewhere = await ngsi(b.app, 'GET', `/entities/${shelter(1).id}`, undefined, {
      'ngsild-tenant': 'ishinomaki',
    });
    assertNgsiError(elsewhere, 404, 'ResourceNotFound');
  });

  it('keeps what is written through an alias in the tenant of its code', async () => {
    const rows = await b.t.db.withTenant(SENDAI, (tx) =>
      tx.query<{ tenant_id: string }>('select tenant_id from broker.entities where id = $1', [shelter(1).id]),
    );
    assert.deepEqual(
      rows.rows.map((r) => r.tenant_id),
      [SENDAI],
    );
  });

  it('answers NonexistentTenant for an alias no tenant has, and for a name that is neither', async () => {
    const unknown = assertNgsiError(
      await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { 'ngsild-tenant': 'atlantis' }),
      404,
      'NonexistentTenant',
    );
    assert.match(String(unknown.detail), /no tenant has the alias atlantis/);
    const malformed = assertNgsiError(
      await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { 'ngsild-tenant': 'sen dai' }),
      404,
      'NonexistentTenant',
    );
    assert.match(String(malformed.detail), /neither a 全国地方公共団体コード nor an alias/);
    assertNgsiError(
      await ngsi(b.app, 'GET', '/entities?type=Shelter', undefined, { 'ngsild-tenant': '041008' }),
      404,
      'NonexistentTenant',
    );
  });

  it('sends notifications with the code as NGSILD-Tenant when the subscription named an alias', async () => {
    const sub = subscription(receiver, '/alias', { entities: [{ type: 'Shelter' }] });
    const created = await ngsi(b.app, 'POST', '/subscriptions', sub, { 'ngsild-tenant': 'ishinomaki' });
    assert.equal(created.statusCode, 201, created.body);
    const write = await ngsi(b.app, 'POST', '/entities', shelter(2), { 'ngsild-tenant': 'ishinomaki' });
    assert.equal(write.statusCode, 201, write.body);
    await waitFor('the notification', () => receiver.on('/alias').length > 0);
    assert.equal(receiver.on('/alias')[0]?.headers['ngsild-tenant'], ISHINOMAKI);
  });

  it('lists every tenant with its aliases, and finds one by alias with its code', async () => {
    const list = (await b.app.inject('/api/v1/tenants')).json() as {
      tenants: { code: string; aliases: string[] }[];
    };
    assert.deepEqual(list.tenants.find((t) => t.code === SENDAI)?.aliases, ['sendai']);
    assert.deepEqual(list.tenants.find((t) => t.code === '122033')?.aliases, ['ichikawa']);
    const one = await b.app.inject('/api/v1/tenants/ichikawa');
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().code, '122033');
  });
});

describe(`the default tenant named by alias (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker({ NGSILD_DEFAULT_TENANT: 'ichikawa' });
  });
  after(() => b.close());

  it('serves requests without NGSILD-Tenant from the tenant the configured alias names', async () => {
    const demoAed = await b.app.inject({ url: '/ngsi-ld/v1/entities?type=AED&limit=1&count=true' });
    assert.equal(demoAed.statusCode, 200, demoAed.body);
    assert.ok(Number(demoAed.headers['ngsild-results-count']) > 0, '市川市 has the demo AEDs');
  });

  it('refuses a default tenant that is neither a code nor an alias when the settings are read', () => {
    assert.throws(() => loadBrokerConfig({ NGSILD_DEFAULT_TENANT: 'sendai city' }), {
      message: /NGSILD_DEFAULT_TENANT="sendai city" must be a tenant alias or a 全国地方公共団体コード/,
    });
  });
});

describe(`tenant aliases in the registry (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    await addTenant(t.db, { code: '130001', name: '東京都', nameEn: 'Tokyo Metropolis', aliases: ['tokyo'] });
  });
  after(() => t.close());

  it('registers aliases with a tenant and later, and lists them in alphabetical order', async () => {
    const chiyoda = await addTenant(t.db, {
      code: '131016',
      name: '千代田区',
      nameEn: 'Chiyoda City',
      aliases: ['chiyoda'],
    });
    assert.deepEqual(chiyoda.aliases, ['chiyoda']);
    const more = await addTenantAliases(t.db, 'chiyoda', ['chiyoda-ku']);
    assert.equal(more.code, '131016');
    assert.deepEqual(more.aliases, ['chiyoda', 'chiyoda-ku']);
    const listed = await listTenants(t.db);
    assert.deepEqual(
      listed.map((x) => [x.code, x.aliases]),
      [
        ['130001', ['tokyo']],
        ['131016', ['chiyoda', 'chiyoda-ku']],
      ],
    );
  });

  it('refuses an alias another tenant has, and adds no tenant with it', async () => {
    await assert.rejects(
      addTenant(t.db, {
        code: '131041',
        name: '新宿区',
        nameEn: 'Shinjuku City',
        aliases: ['shinjuku', 'tokyo'],
      }),
      { status: 409, message: /the alias tokyo already names tenant 130001/ },
    );
    assert.equal((await listTenants(t.db)).length, 2);
    await assert.rejects(addTenantAliases(t.db, '130001', ['chiyoda']), { status: 409 });
  });

  it('refuses aliases that could be taken for a code or are not lowercase slugs', async () => {
    for (const alias of ['123456', '1sendai', 'sendai city', 'sendai_city', 'x', 'sendai-', 'せんだい']) {
      await assert.rejects(addTenantAliases(t.db, '130001', [alias]), { status: 400 }, alias);
    }
  });

  it('answers NotFound for an alias no tenant has', async () => {
    await assert.rejects(addTenantAliases(t.db, 'nowhere', ['somewhere']), { status: 404 });
  });
});

describe(`the tenant registry over HTTP (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
    await addTenant(t.db, {
      code: '040002',
      name: '宮城県',
      nameEn: 'Miyagi Prefecture',
      aliases: ['miyagi'],
    });
  });
  after(() => t.close());

  it('answers 404 for an alias no tenant has and 400 for a malformed name', async () => {
    const app = await buildApp({ config: testConfig(), db: t.db });
    try {
      assert.equal((await app.inject('/api/v1/tenants/miyagi')).json().code, '040002');
      assert.equal((await app.inject('/api/v1/tenants/iwate')).statusCode, 404);
      assert.equal((await app.inject('/api/v1/tenants/miyagi_ken')).statusCode, 400);
    } finally {
      await app.close();
    }
  });
});
