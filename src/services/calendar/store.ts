/** The calendar's SQL. Every function takes a transaction of the tenant (`db.withTenant`). */
import type { Queryable } from '../../platform/index.ts';
import type { DayException } from './garbage-5374.ts';
import type { GarbageSchedule } from './garbage-import.ts';

export interface ImportedFile {
  name: string;
  sha256: string;
  encoding: string;
  bytes: number;
}

export interface StoredSchedule {
  id: string;
  importedAt: Date;
  files: ImportedFile[];
  schedule: GarbageSchedule;
}

export async function insertSchedule(
  tx: Queryable,
  tenant: string,
  importedBy: string,
  files: ImportedFile[],
  schedule: GarbageSchedule,
): Promise<{ id: string; importedAt: Date }> {
  const { rows } = await tx.query<{ id: string; imported_at: Date }>(
    `insert into calendar.garbage_schedules (tenant_id, imported_by, files, schedule)
     values ($1, $2, $3, $4) returning id, imported_at`,
    [tenant, importedBy, JSON.stringify(files), JSON.stringify(schedule)],
  );
  const row = rows[0] as { id: string; imported_at: Date };
  return { id: row.id, importedAt: row.imported_at };
}

/** The schedule in force: the newest import. */
export async function currentSchedule(tx: Queryable): Promise<StoredSchedule | undefined> {
  const { rows } = await tx.query<{
    id: string;
    imported_at: Date;
    files: ImportedFile[];
    schedule: GarbageSchedule;
  }>(
    `select id, imported_at, files, schedule from calendar.garbage_schedules
      order by imported_at desc, id limit 1`,
  );
  const row = rows[0];
  return row && { id: row.id, importedAt: row.imported_at, files: row.files, schedule: row.schedule };
}

export interface StoredException extends DayException {
  id: string;
  reason: string;
}

const isoDay = (d: Date | string) => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

/** The day changes whose day or new day lies in the period (with a month's margin, as moves reach). */
export async function listExceptions(
  tx: Queryable,
  period?: { from: string; to: string },
): Promise<StoredException[]> {
  const { rows } = await tx.query<{
    id: string;
    day: string;
    category: string | null;
    area: string | null;
    move_to: string | null;
    reason: string;
  }>(
    `select id, to_char(day, 'YYYY-MM-DD') as day, category, area, to_char(move_to, 'YYYY-MM-DD') as move_to, reason
       from calendar.garbage_exceptions
      where $1::date is null or day between $1::date - 31 and $2::date + 31
      order by day, category nulls first, area nulls first`,
    [period?.from ?? null, period?.to ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    date: isoDay(r.day),
    category: r.category ?? undefined,
    area: r.area ?? undefined,
    moveTo: r.move_to ?? undefined,
    reason: r.reason,
  }));
}

export async function insertException(
  tx: Queryable,
  tenant: string,
  createdBy: string,
  e: DayException & { reason: string },
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `insert into calendar.garbage_exceptions (tenant_id, day, category, area, move_to, reason, created_by)
     values ($1, $2, $3, $4, $5, $6, $7) returning id`,
    [tenant, e.date, e.category ?? null, e.area ?? null, e.moveTo ?? null, e.reason, createdBy],
  );
  return (rows[0] as { id: string }).id;
}

export async function deleteException(tx: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await tx.query('delete from calendar.garbage_exceptions where id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export interface ResidentSettings {
  garbageArea: string | null;
  eveningReminder: boolean;
}

export async function readSettings(tx: Queryable, accountId: string): Promise<ResidentSettings> {
  const { rows } = await tx.query<{ garbage_area: string | null; evening_reminder: boolean }>(
    'select garbage_area, evening_reminder from calendar.resident_settings where account_id = $1',
    [accountId],
  );
  const row = rows[0];
  return { garbageArea: row?.garbage_area ?? null, eveningReminder: row?.evening_reminder ?? false };
}

export async function writeSettings(
  tx: Queryable,
  tenant: string,
  accountId: string,
  settings: ResidentSettings,
): Promise<void> {
  await tx.query(
    `insert into calendar.resident_settings (tenant_id, account_id, garbage_area, evening_reminder)
     values ($1, $2, $3, $4)
     on conflict (tenant_id, account_id) do update
       set garbage_area = excluded.garbage_area, evening_reminder = excluded.evening_reminder, updated_at = now()`,
    [tenant, accountId, settings.garbageArea, settings.eveningReminder],
  );
}

/** Residents who asked for the evening reminder, with their area. */
export async function residentsWithReminder(tx: Queryable): Promise<{ accountId: string; area: string }[]> {
  const { rows } = await tx.query<{ account_id: string; garbage_area: string }>(
    `select account_id, garbage_area from calendar.resident_settings
      where evening_reminder and garbage_area is not null order by account_id`,
  );
  return rows.map((r) => ({ accountId: r.account_id, area: r.garbage_area }));
}

/** A new feed for the resident; their earlier feeds stop answering. */
export async function replaceFeed(
  tx: Queryable,
  tenant: string,
  accountId: string,
  tokenHash: string,
): Promise<void> {
  await revokeFeeds(tx, accountId);
  await tx.query('insert into calendar.feeds (tenant_id, token_hash, account_id) values ($1, $2, $3)', [
    tenant,
    tokenHash,
    accountId,
  ]);
}

export async function revokeFeeds(tx: Queryable, accountId: string): Promise<number> {
  const { rowCount } = await tx.query(
    'update calendar.feeds set revoked_at = now() where account_id = $1 and revoked_at is null',
    [accountId],
  );
  return rowCount ?? 0;
}

export async function hasFeed(tx: Queryable, accountId: string): Promise<boolean> {
  const { rows } = await tx.query(
    'select 1 from calendar.feeds where account_id = $1 and revoked_at is null',
    [accountId],
  );
  return rows.length > 0;
}

/** The account a live feed token belongs to. */
export async function feedOwner(tx: Queryable, tokenHash: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ account_id: string }>(
    'select account_id from calendar.feeds where token_hash = $1 and revoked_at is null',
    [tokenHash],
  );
  return rows[0]?.account_id;
}

/** Erasure (消去): the resident's area, reminder choice and feeds in the transaction's municipality. */
export async function eraseResidentCalendar(tx: Queryable, accountId: string): Promise<number> {
  const settings = await tx.query('delete from calendar.resident_settings where account_id = $1', [
    accountId,
  ]);
  const feeds = await tx.query('delete from calendar.feeds where account_id = $1', [accountId]);
  return (settings.rowCount ?? 0) + (feeds.rowCount ?? 0);
}
