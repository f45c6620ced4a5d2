import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { migrationSources } from '../../src/main.ts';
import {
  loadMigrations,
  type MigrationSource,
  migrate,
  pendingMigrations,
} from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import { runMachi } from '../helpers/machi.ts';

function tempSource(files: Record<string, string>): MigrationSource {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-migrations-'));
  for (const [name, sql] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), sql);
  }
  return { capability: 'sample', dir };
}

describe('migration files', () => {
  it('orders each capability by number, platform first', () => {
    const ids = loadMigrations(migrationSources).map((m) => m.id);
    assert.equal(ids[0], 'platform/001_platform');
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => (a.split('/')[0] === b.split('/')[0] ? a.localeCompare(b) : 0)),
    );
  });

  it('refuses a misnamed file and two files with one number', () => {
    assert.throws(
      () => loadMigrations([tempSource({ 'add-things.sql': 'select 1' })]),
      /must look like 001_name\.sql/,
    );
    assert.throws(
      () => loadMigrations([tempSource({ '001_a.sql': 'select 1', '001_b.sql': 'select 1' })]),
      /share the number 001/,
    );
  });
});

describe(`migrations (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  it('records what it applied and applies nothing the second time', async () => {
    const source = tempSource({
      '001_things.sql': 'create table sample_things (id int primary key);',
      '002_more.sql': 'alter table sample_things add column name text;',
    });
    const migrations = loadMigrations([source]);
    assert.deepEqual(await migrate(t.db, migrations), ['sample/001_things', 'sample/002_more']);
    assert.deepEqual(await migrate(t.db, migrations), []);
    assert.deepEqual(await pendingMigrations(t.db, migrations), []);
    const { rows } = await t.db.query<{ id: string }>(
      `select id from platform.migrations where id like 'sample/%' order by id`,
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      ['sample/001_things', 'sample/002_more'],
    );
  });

  it('stops when an applied migration was edited afterwards', async () => {
    const source = tempSource({
      '001_things.sql': 'create table sample_things (id int primary key); -- edited',
    });
    await assert.rejects(
      migrate(t.db, loadMigrations([source])),
      /sample\/001_things was changed after it was applied/,
    );
  });

  it('rolls a failing migration back whole and names it', async () => {
    const source = tempSource({
      '001_things.sql': 'create table sample_things (id int primary key);',
      '002_more.sql': 'alter table sample_things add column name text;',
      '003_broken.sql': 'create table sample_half (id int); select no_such_function();',
    });
    await assert.rejects(migrate(t.db, loadMigrations([source])), /migration sample\/003_broken failed/);
    const half = await t.db.query(`select to_regclass('public.sample_half') as t`);
    assert.deepEqual(half.rows, [{ t: null }]);
    assert.deepEqual(await pendingMigrations(t.db, loadMigrations([source])), ['sample/003_broken']);
  });
});

describe(`migrations when several processes start at once (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb({ persistent: true, migrated: false });
    if (!t.databaseUrl) {
      await t.db.close();
    }
  });
  after(() => t.close());

  it('applies every migration exactly once', async () => {
    const runs = await Promise.all([0, 1, 2].map(() => runMachi(['migrate'], t.env)));
    const expected = loadMigrations(migrationSources).map((m) => m.id);
    if (t.databaseUrl) {
      // All three wait on the advisory lock; exactly one applies, the others find nothing to do.
      for (const run of runs) {
        assert.equal(run.status, 0, run.stderr);
      }
      const appliedLines = runs.flatMap((r) => r.stdout.split('\n').filter((l) => /^\s+\w+\/\d{3}_/.test(l)));
      assert.deepEqual(appliedLines.map((l) => l.trim()).sort(), [...expected].sort());
      const { rows } = await t.db.query<{ id: string; n: number }>(
        'select id, count(*)::int as n from platform.migrations group by id order by id',
      );
      assert.deepEqual(
        rows.map((r) => [r.id, r.n]),
        [...expected].sort().map((id) => [id, 1]),
      );
    } else {
      // The embedded database is one process's: one migrates, the others are told it is in use.
      const ok = runs.filter((r) => r.status === 0);
      assert.ok(ok.length >= 1);
      for (const run of runs.filter((r) => r.status !== 0)) {
        assert.match(run.stderr, /in use by process \d+/);
      }
      const after = await runMachi(['migrate'], t.env);
      assert.equal(after.status, 0, after.stderr);
      assert.match(after.stdout, /Nothing to apply/);
    }
  });
});
