/** The calendar's commands that more than one caller uses (staff's import route, the demo). */
import { createHash } from 'node:crypto';
import type { Db } from '../../platform/index.ts';
import { type GarbageFile, readGarbageImport } from './garbage-import.ts';
import { currentSchedule, type ImportedFile, insertSchedule, writeSettings } from './store.ts';

/**
 * Reads and keeps an import of 5374 files as the tenant's schedule in force.
 * @throws ValidationFailed listing every problem; nothing is kept then
 */
export async function importGarbageSchedule(
  db: Db,
  tenant: string,
  importedBy: string,
  files: Partial<Record<GarbageFile, Uint8Array>>,
) {
  const { schedule, encodings } = readGarbageImport(files);
  const described: ImportedFile[] = Object.entries(files).map(([name, bytes]) => ({
    name,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    encoding: encodings[name as GarbageFile] ?? 'utf-8',
    bytes: bytes.length,
  }));
  const saved = await db.withTenant(tenant, (tx) =>
    insertSchedule(tx, tenant, importedBy, described, schedule),
  );
  return { ...saved, files: described, schedule };
}

/** Records a resident's garbage area and reminder choice; false when the area is not in the schedule. */
export async function chooseGarbageArea(
  db: Db,
  tenant: string,
  accountId: string,
  choice: { garbageArea: string; eveningReminder: boolean },
): Promise<boolean> {
  return db.withTenant(tenant, async (tx) => {
    const stored = await currentSchedule(tx);
    if (!stored?.schedule.areas.some((a) => a.area === choice.garbageArea)) return false;
    await writeSettings(tx, tenant, accountId, choice);
    return true;
  });
}

/** Whether the tenant has imported a garbage schedule. */
export async function hasGarbageSchedule(db: Db, tenant: string): Promise<boolean> {
  return (await db.withTenant(tenant, (tx) => currentSchedule(tx))) !== undefined;
}
