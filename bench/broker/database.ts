/**
 * The benchmark's own PostgreSQL database: `machi_bench_<random>`, created on the server named by
 * BENCH_DATABASE_URL, migrated with every capability's migrations, given the tenants 宮城県 and
 * 仙台市, and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrationSources } from '../../src/main.ts';
import { addTenant, type Db, loadMigrations, migrate, openDb } from '../../src/platform/index.ts';

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates, migrates and populates the database; returns its URL. */
export async function createBenchDatabase(adminUrl: string): Promise<string> {
  const name = `machi_bench_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db: Db = await openDb({ databaseUrl: url.toString(), poolSize: 2 });
  try {
    await migrate(db, loadMigrations(migrationSources));
    await addTenant(db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
    await addTenant(db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' });
  } finally {
    await db.close();
  }
  return url.toString();
}

export async function dropBenchDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  await asAdmin(adminUrl, `drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
}
