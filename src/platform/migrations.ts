/**
 * Migrations: numbered `.sql` files in each capability's `migrations/` folder, applied in order at
 * start under a PostgreSQL advisory lock (so two processes starting at once apply each file once),
 * each in its own transaction, and recorded with a checksum in `platform.migrations`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db, Queryable } from './db.ts';
import { InternalError } from './errors.ts';

/** A capability's migrations folder; capabilities are migrated in the order they are listed. */
export interface MigrationSource {
  capability: string;
  dir: string;
}

export interface Migration {
  id: string;
  sql: string;
  checksum: string;
}

/** Arbitrary constant: the advisory lock that serialises migration runs across processes. */
const MIGRATION_LOCK = 726_574_312;

const FILE_NAME = /^(\d{3,})_[a-z0-9_]+\.sql$/;

/** Reads the migrations of every source, in order; a misnamed or duplicate-numbered file is an error. */
export function loadMigrations(sources: MigrationSource[]): Migration[] {
  const migrations: Migration[] = [];
  for (const source of sources) {
    const files = fs.readdirSync(source.dir).filter((f) => f.endsWith('.sql'));
    const seen = new Set<string>();
    for (const file of files.sort()) {
      const match = FILE_NAME.exec(file);
      if (!match?.[1]) {
        throw new InternalError(
          `migration file name ${source.capability}/${file} must look like 001_name.sql`,
        );
      }
      if (seen.has(match[1])) {
        throw new InternalError(`two migrations of ${source.capability} share the number ${match[1]}`);
      }
      seen.add(match[1]);
      const sql = fs.readFileSync(path.join(source.dir, file), 'utf8');
      migrations.push({
        id: `${source.capability}/${file.replace(/\.sql$/, '')}`,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      });
    }
  }
  return migrations;
}

async function ensureLedger(conn: Queryable): Promise<void> {
  await conn.exec(`
    create schema if not exists platform;
    create table if not exists platform.migrations (
      id text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    );`);
}

/**
 * Applies the migrations not yet recorded. Returns the ids applied by this call.
 * @throws InternalError when an applied migration's file has changed since
 */
export async function migrate(db: Db, migrations: Migration[]): Promise<string[]> {
  return db.withConnection(async (conn) => {
    await conn.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await ensureLedger(conn);
      const { rows } = await conn.query<{ id: string; checksum: string }>(
        'select id, checksum from platform.migrations',
      );
      const applied = new Map(rows.map((r) => [r.id, r.checksum]));
      const done: string[] = [];
      for (const migration of migrations) {
        const checksum = applied.get(migration.id);
        if (checksum !== undefined) {
          if (checksum !== migration.checksum) {
            throw new InternalError(
              `migration ${migration.id} was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await applyOne(conn, migration);
        done.push(migration.id);
      }
      return done;
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}

async function applyOne(conn: Queryable, migration: Migration): Promise<void> {
  await conn.query('begin');
  try {
    await conn.exec(migration.sql);
    await conn.query('insert into platform.migrations (id, checksum) values ($1, $2)', [
      migration.id,
      migration.checksum,
    ]);
    await conn.query('commit');
  } catch (error) {
    await conn.query('rollback');
    throw new InternalError(`migration ${migration.id} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The migrations not yet applied (readiness reports the database not ready while any remain). */
export async function pendingMigrations(db: Queryable, migrations: Migration[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from platform.migrations where id = any($1::text[])`,
    [migrations.map((m) => m.id)],
  );
  const applied = new Set(rows.map((r) => r.id));
  return migrations.filter((m) => !applied.has(m.id)).map((m) => m.id);
}
