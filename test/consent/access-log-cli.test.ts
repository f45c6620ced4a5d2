import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Db, openDb } from '../../src/platform/index.ts';
import { backend, createTestDb, TEST_SECRET_KEY, type TestDb } from '../helpers/db.ts';
import { commandSuite, runMachi } from '../helpers/machi.ts';
import { world } from './access-log-helpers.ts';

describe(`machi audit (${backend})`, commandSuite, () => {
  let t: TestDb;
  let env: Record<string, string>;
  let tenant: string;
  let resident: string;

  /** The database the commands use, opened only while no command runs (the embedded one is one process's). */
  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (t.databaseUrl) return fn(t.db);
    const db = await openDb({ dataDir: t.dataDir });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  before(async () => {
    t = await createTestDb({ persistent: true });
    ({ tenant, first: resident } = await world(t.db));
    if (!t.databaseUrl) await t.db.close();
    env = { ...t.env, DEMO_DATA: 'false', MACHI_SECRET_KEY: TEST_SECRET_KEY };
  });
  after(() => t.close());

  it('signs a checkpoint and finds the log intact', async () => {
    const checkpoint = await runMachi(['audit', 'checkpoint'], env);
    assert.equal(checkpoint.status, 0, checkpoint.stderr);
    assert.match(
      checkpoint.stdout,
      new RegExp(`^${tenant}  checkpoint 1  2 chain heads  root [0-9a-f]{64}$`, 'm'),
    );
    const verify = await runMachi(['audit', 'verify'], env);
    assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /Access log intact: \d+ tenants, 2 chains, 10 records, 1 checkpoints\./);
  });

  it('exits 1 and names the first broken link: tenant, resident, seq, expected and found hash', async () => {
    const original = await withDb(async (db) => {
      const { rows } = await db.query<{ hash: string }>(
        `update consent.access_log set actor_name = '別の名前'
          where tenant_id = $1 and resident_id = $2 and seq = 2 returning hash`,
        [tenant, resident],
      );
      return rows[0]?.hash;
    });
    const verify = await runMachi(['audit', 'verify', '--tenant', tenant], env);
    assert.equal(verify.status, 1, verify.stderr + verify.stdout);
    assert.match(
      verify.stdout,
      new RegExp(
        `Access log broken: tenant ${tenant}, resident ${resident}, seq 2: record altered .*; expected [0-9a-f]{64}, found ${original}`,
      ),
    );
  });

  it('answers with its usage for an unknown audit command', async () => {
    const result = await runMachi(['audit', 'repair'], env);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /audit verify \[--tenant <code>\]/);
  });
});
