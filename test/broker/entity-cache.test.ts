/**
 * Entities read by id are kept in each process's memory (src/broker/entities/cache.ts). What a
 * client must never notice: an answer older than a change that had committed before it asked,
 * whichever process or tool made the change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EntityCache } from '../../src/broker/entities/cache.ts';
import type { StoredEntity } from '../../src/broker/entities/model.ts';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { buildApp } from '../../src/main.ts';
import { type Db, openDb } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import { type BrokerTest, ngsi, SENDAI, shelter, startBroker } from './helpers.ts';

const capacityOf = async (app: FastifyInstance, id: string) => {
  const response = await ngsi(app, 'GET', `/entities/${encodeURIComponent(id)}?options=keyValues`);
  return response.statusCode === 200
    ? (response.json() as { capacity: number }).capacity
    : response.statusCode;
};

/** Waits until `check` holds (a notification from the database arrives within milliseconds). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`never: ${what}`);
}

describe(`entity cache (${backend})`, () => {
  let b: BrokerTest;
  /** A second API instance on the same database: on PostgreSQL with its own pool, as another process. */
  let other: FastifyInstance;
  let otherDb: Db | undefined;

  before(async () => {
    b = await startBroker();
    otherDb = b.t.databaseUrl ? await openDb({ databaseUrl: b.t.databaseUrl, poolSize: 2 }) : undefined;
    other = await buildApp({
      config: testConfig(),
      db: otherDb ?? b.t.db,
      broker: loadBrokerConfig({ MACHI_AUTH: 'off' }),
    });
  });
  after(async () => {
    await other.close();
    await otherDb?.close();
    await b.close();
  });

  it('answers a client its own update at once', async () => {
    const s = shelter(1);
    assert.equal((await ngsi(b.app, 'POST', '/entities', s)).statusCode, 201);
    assert.equal(await capacityOf(b.app, s.id), 100);
    for (const capacity of [150, 160, 170]) {
      const patch = { capacity: { type: 'Property', value: capacity } };
      assert.equal(
        (await ngsi(b.app, 'PATCH', `/entities/${encodeURIComponent(s.id)}/attrs`, patch)).statusCode,
        204,
      );
      assert.equal(await capacityOf(b.app, s.id), capacity);
    }
    assert.equal((await ngsi(b.app, 'DELETE', `/entities/${encodeURIComponent(s.id)}`)).statusCode, 204);
    assert.equal(await capacityOf(b.app, s.id), 404);
  });

  it('shows a change made by another instance, and a deletion', async () => {
    const s = shelter(2);
    await ngsi(b.app, 'POST', '/entities', s);
    assert.equal(await capacityOf(b.app, s.id), 200);
    assert.equal(await capacityOf(other, s.id), 200);
    const patch = { capacity: { type: 'Property', value: 250 } };
    await ngsi(other, 'PATCH', `/entities/${encodeURIComponent(s.id)}/attrs`, patch);
    await eventually(async () => (await capacityOf(b.app, s.id)) === 250, 'the first instance shows 250');
    await ngsi(other, 'DELETE', `/entities/${encodeURIComponent(s.id)}`);
    await eventually(async () => (await capacityOf(b.app, s.id)) === 404, 'the first instance answers 404');
  });

  it('shows a change made in SQL outside the broker', async () => {
    const s = shelter(3);
    await ngsi(b.app, 'POST', '/entities', s);
    assert.equal(await capacityOf(b.app, s.id), 300);
    await b.t.db.query(
      `update broker.entities set attrs = jsonb_set(attrs, '{https://uri.etsi.org/ngsi-ld/default-context/capacity,0,value}', '333')
        where tenant_id = $1 and id = $2`,
      [SENDAI, s.id],
    );
    await eventually(async () => (await capacityOf(b.app, s.id)) === 333, 'the SQL change is shown');
  });

  it('does not keep what a read found when the entity changed during the read', async () => {
    const db = otherDb ?? b.t.db;
    const cache = await EntityCache.open(db, 10);
    try {
      const stale = { id: 'urn:x:1', types: ['T'], scopes: null, attrs: {} } as unknown as StoredEntity;
      let loads = 0;
      const load = async () => {
        loads++;
        // The change commits while this read is under way.
        EntityCache.dropCommitted(SENDAI, 'urn:x:1');
        return stale;
      };
      await cache.read(SENDAI, 'urn:x:1', load);
      await cache.read(SENDAI, 'urn:x:1', load);
      assert.equal(loads, 2, 'the first read was not kept');
      assert.equal(cache.size, 0);
      await cache.read(SENDAI, 'urn:x:2', async () => ({ ...stale, id: 'urn:x:2' }));
      assert.equal(cache.size, 1, 'an undisturbed read is kept');
    } finally {
      await cache.close();
    }
  });

  it('keeps at most its size, least recently read out first', async () => {
    const cache = await EntityCache.open(b.t.db, 2);
    try {
      const loads: string[] = [];
      const read = (id: string) =>
        cache.read(SENDAI, id, async () => {
          loads.push(id);
          return { id, types: ['T'], scopes: null, attrs: {} } as unknown as StoredEntity;
        });
      for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) await read(id);
      // a stays (read again before c came in); b went out when c came in.
      assert.deepEqual(loads, ['a', 'b', 'c', 'b']);
    } finally {
      await cache.close();
    }
  });
});

describe('entity cache when notifications are lost (postgres)', { skip: backend !== 'postgres' }, () => {
  let b: BrokerTest;

  before(async () => {
    b = await startBroker();
  });
  after(async () => {
    await b?.close();
  });

  it('keeps nothing while its listening connection is down, and caches again once it is back', async () => {
    const s = shelter(4);
    await ngsi(b.app, 'POST', '/entities', s);
    assert.equal(await capacityOf(b.app, s.id), 400);
    const admin = await openDb({ databaseUrl: b.t.databaseUrl as string, poolSize: 1 });
    try {
      const change = async (value: number) => {
        // With its triggers off, the change is announced to nobody: only a cache that keeps nothing shows it.
        await admin.transaction(async (tx) => {
          await tx.query('alter table broker.entities disable trigger user');
          await tx.query(
            `update broker.entities set attrs = jsonb_set(attrs, '{https://uri.etsi.org/ngsi-ld/default-context/capacity,0,value}', $3::jsonb)
              where tenant_id = $1 and id = $2`,
            [SENDAI, s.id, String(value)],
          );
          await tx.query('alter table broker.entities enable trigger user');
        });
      };
      await change(401);
      assert.equal(await capacityOf(b.app, s.id), 400, 'an unannounced change is not seen while cached');
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'machi-listen' and datname = current_database()`,
      );
      await eventually(async () => (await capacityOf(b.app, s.id)) === 401, 'the cache was emptied');
      await change(402);
      assert.equal(await capacityOf(b.app, s.id), 402);
      // Once it listens again (it reconnects on its own), a read is kept again.
      let value = 402;
      await eventually(async () => {
        const shown = await capacityOf(b.app, s.id);
        await change(++value);
        return (await capacityOf(b.app, s.id)) === shown;
      }, 'cached again once listening');
    } finally {
      await admin.close();
    }
  });
});
