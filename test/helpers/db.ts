/**
 * Test databases: a fresh in-memory PGlite per call, or, when TEST_DATABASE_URL is set, a fresh
 * database on that PostgreSQL server (created here, dropped on close). Either way fully migrated.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { migrationSources } from '../../src/main.ts';
import {
  type Db,
  dumpEmbeddedDb,
  loadConfig,
  loadMigrations,
  migrate,
  openDb,
  type PlatformConfig,
} from '../../src/platform/index.ts';

/** The master key of every test deployment (sealed secrets must open in every process of a test). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64url');

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
/** Which engine this run tests: test names carry it so a failure says where. */
export const backend = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDb {
  db: Db;
  /** Set on PostgreSQL: other processes connect with it. */
  databaseUrl?: string;
  /** Set for a persistent embedded database: other processes open it (one at a time). */
  dataDir?: string;
  /** Environment for a child process to reach this database. */
  env: Record<string, string>;
  close(): Promise<void>;
}

function databaseUrlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL as string);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A key for the current set of migrations: a template or dump made for other migrations is not used. */
function migrationsKey(): string {
  return createHash('sha256')
    .update(
      loadMigrations(migrationSources)
        .map((m) => `${m.id}:${m.checksum}`)
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
}

/**
 * A migrated template database on the server, made once per set of migrations: copying it is a file
 * copy, where creating PostGIS and running every migration takes seconds per test database. Test
 * files make it under an advisory lock (the first one builds, the others wait), under a temporary name
 * renamed when complete, so a run killed midway leaves no half-migrated template behind.
 */
async function migratedTemplateDatabase(admin: pg.Client): Promise<string> {
  const name = `machi_template_${migrationsKey()}`;
  const exists = async (db: string) =>
    (await admin.query('select 1 from pg_database where datname = $1', [db])).rowCount === 1;
  if (await exists(name)) return name;
  await admin.query('select pg_advisory_lock(hashtext($1))', ['machi test template']);
  try {
    if (await exists(name)) return name;
    const building = `${name}_building`;
    await admin.query(`drop database if exists ${building} with (force)`);
    await admin.query(`create database ${building}`);
    const db = await openDb({ databaseUrl: databaseUrlFor(building), poolSize: 1 });
    try {
      await migrate(db, loadMigrations(migrationSources));
    } finally {
      await db.close();
    }
    await admin.query(`alter database ${building} rename to ${name}`);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock(hashtext($1))', ['machi test template']);
  }
}

async function createPostgresDatabase(migrated: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const name = `machi_test_${randomBytes(6).toString('hex')}`;
  try {
    const template = migrated ? await migratedTemplateDatabase(admin) : undefined;
    await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  return databaseUrlFor(name);
}

async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

const TEMPLATE_DIR = path.resolve(import.meta.dirname, '../../node_modules/.cache/machi');

/**
 * A migrated embedded database as a dump, made once per set of migrations and shared by every test
 * file: creating PostGIS and running migrations takes seconds, loading a dump much less.
 */
async function migratedTemplate(): Promise<Blob> {
  const file = path.join(TEMPLATE_DIR, `pglite-${migrationsKey()}.tar`);
  if (fs.existsSync(file)) {
    return new Blob([fs.readFileSync(file)]);
  }
  const db = await openDb({});
  await migrate(db, loadMigrations(migrationSources));
  // A checkpoint first, so that a database started from the dump has no WAL to replay.
  await db.query('checkpoint');
  const dump = await dumpEmbeddedDb(db);
  await db.close();
  fs.mkdirSync(TEMPLATE_DIR, { recursive: true });
  // Several test files may race to make it: write aside, then rename atomically.
  const tmp = `${file}.${process.pid}.tmp`;
  // Kept unpacked: each test database starts a third of a second sooner than from the gzipped dump.
  fs.writeFileSync(tmp, gunzipSync(Buffer.from(await dump.arrayBuffer())));
  fs.renameSync(tmp, file);
  return dump;
}

/** A migrated database for one test file; `persistent` keeps an embedded one on disk for child processes. */
export async function createTestDb(
  options: { persistent?: boolean; migrated?: boolean } = {},
): Promise<TestDb> {
  let db: Db;
  let databaseUrl: string | undefined;
  let dataDir: string | undefined;
  if (TEST_DATABASE_URL) {
    databaseUrl = await createPostgresDatabase(options.migrated !== false);
    db = await openDb({ databaseUrl, poolSize: 5 });
  } else {
    dataDir = options.persistent ? fs.mkdtempSync(path.join(os.tmpdir(), 'machi-test-')) : undefined;
    const fromDump = options.migrated === false ? undefined : await migratedTemplate();
    db = await openDb({ dataDir, fromDump });
  }
  if (options.migrated !== false) {
    await migrate(db, loadMigrations(migrationSources));
  }
  const env: Record<string, string> = databaseUrl
    ? { DATABASE_URL: databaseUrl, MACHI_SECRET_KEY: TEST_SECRET_KEY }
    : dataDir
      ? { DATA_DIR: dataDir }
      : {};
  return {
    db,
    databaseUrl,
    dataDir,
    env,
    async close() {
      await db.close();
      if (databaseUrl) {
        await dropPostgresDatabase(databaseUrl);
      }
      if (dataDir) {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Configuration for tests: quiet logs, no demo loading, and Machi may call 127.0.0.1, where test
 * receivers (notification endpoints, @context servers, the MQTT broker) listen; override what a test
 * is about.
 */
export function testConfig(overrides: Record<string, string> = {}): PlatformConfig {
  return loadConfig({
    LOG_LEVEL: 'silent',
    DEMO_DATA: 'false',
    RATE_LIMIT_MAX: '100000',
    OUTBOUND_ALLOW: '127.0.0.1',
    MACHI_SECRET_KEY: TEST_SECRET_KEY,
    ...overrides,
  });
}
