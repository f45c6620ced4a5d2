/**
 * Myカレンダー: garbage collection days by area from the 5374 files staff import, the day changes
 * they enter, each resident's area and evening reminder, and a private iCalendar feed. It keeps no
 * personal data beyond the resident's own choices, and never reads another capability's tables.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Db, MigrationSource } from '../../platform/index.ts';
import { calendarResidentRoutes } from './routes-resident.ts';
import { calendarStaffRoutes } from './routes-staff.ts';
import type { CalendarIdentity } from './types.ts';

export { chooseGarbageArea, hasGarbageSchedule, importGarbageSchedule } from './commands.ts';
export { type GarbageDay, garbageDays, todayInJapan } from './days.ts';
export { readGarbageImport } from './garbage-import.ts';
export { calendarJobHandlers, REMINDER_QUEUE, remindTenant, startEveningReminders } from './reminders.ts';
export { eraseResidentCalendar } from './store.ts';
export type { CalendarIdentity } from './types.ts';

export const calendarMigrations: MigrationSource = {
  capability: 'calendar',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};

export interface CalendarOptions {
  db: Db;
  identity: CalendarIdentity;
  publicUrl: string;
}

/** The calendar's routes, staff's and residents', in their own scope (multipart parsing stays here). */
export async function calendarRoutes(app: FastifyInstance, options: CalendarOptions): Promise<void> {
  await app.register(calendarStaffRoutes, options);
  await app.register(calendarResidentRoutes, options);
}
