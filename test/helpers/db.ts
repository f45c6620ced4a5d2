/**
 * Test databases: a fresh in-memory PGlite per call, or, when TEST_DATABASE_URL is set, a fresh
 * database on that PostgreSQL server (created here, dropped on close). Either way fully migrated.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

async function createPostgresDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const name = `machi_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL as string);
  url.pathname = `/${name}`;
  return url.toString();
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
  const migrations = loadMigrations(migrationSources);
  const key = createHash('sha256')
    .update(migrations.map((m) => `${m.id}:${m.checksum}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const file = path.join(TEMPLATE_DIR, `pglite-${key}.tar.gz`);
  if (fs.existsSync(file)) {
    return new Blob([fs.readFileSync(file)]);
  }
  const db = await openDb({});
  await migrate(db, migrations);
  const dump = await dumpEmbeddedDb(db);
  await db.close();
  fs.mkdirSync(TEMPLATE_DIR, { recursive: true });
  // Several test files may race to make it: write aside, then rename atomically.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
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
    databaseUrl = await createPostgresDatabase();
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
