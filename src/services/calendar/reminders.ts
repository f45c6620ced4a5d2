/**
 * The evening reminder (queue `calendar.evening-reminder`): at 18:00 in Japan, every resident who
 * asked for it and whose area has a collection tomorrow gets a notification (inbox and push). The
 * job is a self-rescheduling daily chain on a fixed grid, like the consent checkpoints: however many
 * workers start it, each evening runs once, and each resident's reminder for a day is made once (its
 * idempotency key is the day and the account).
 */
import { notifyResident } from '../../delivery/index.ts';
import {
  type Db,
  enqueue,
  type Job,
  type JobHandler,
  listTenants,
  type Queryable,
} from '../../platform/index.ts';
import { garbageDays, todayInJapan } from './days.ts';
import { addDays } from './garbage-5374.ts';
import { currentSchedule, listExceptions, residentsWithReminder } from './store.ts';

export const REMINDER_QUEUE = 'calendar.evening-reminder';
/** 18:00 in Japan is 09:00 UTC. */
const EVENING_UTC_HOUR = 9;

/** The next 18:00 in Japan at or after `ms`. */
export function eveningAfter(ms: number): Date {
  const day = new Date(ms);
  const evening = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), EVENING_UTC_HOUR);
  return new Date(evening >= ms ? evening : evening + 86_400_000);
}

async function scheduleReminders(db: Queryable, due: Date): Promise<void> {
  await enqueue(
    db,
    REMINDER_QUEUE,
    { due: due.toISOString() },
    { idempotencyKey: due.toISOString(), maxAttempts: 5, runAt: due },
  );
}

/** Starts the daily chain (idempotent); call at every start of a worker. */
export function startEveningReminders(db: Db): Promise<void> {
  return scheduleReminders(db, eveningAfter(Date.now()));
}

/**
 * Notifies, in one tenant, every resident with the reminder on whose area has a collection on `day`.
 * Returns how many were notified.
 */
export async function remindTenant(db: Db, tenant: string, day: string): Promise<number> {
  return db.withTenant(tenant, async (tx) => {
    const stored = await currentSchedule(tx);
    if (!stored) return 0;
    const exceptions = await listExceptions(tx, { from: day, to: day });
    const byArea = new Map<string, ReturnType<typeof garbageDays>>();
    let notified = 0;
    for (const { accountId, area } of await residentsWithReminder(tx)) {
      if (!byArea.has(area))
        byArea.set(area, garbageDays(stored.schedule, exceptions, area, { from: day, to: day }));
      const days = byArea.get(area) ?? [];
      if (days.length === 0) continue;
      const categories = days.map((d) => d.category).join('・');
      const remarks = [...new Set(days.flatMap((d) => [d.description, ...d.remarks]).filter(Boolean))];
      await notifyResident(tx, {
        tenant,
        accountId,
        kind: 'calendar.garbage',
        title: `明日は${categories}の日です`,
        body: [`${area}（${day.slice(5, 7)}月${day.slice(8, 10)}日）`, ...remarks].join('\n'),
        url: '/',
        idempotencyKey: `garbage-reminder:${day}`,
        // Useless after the collection: kept by push services until the next morning at most.
        ttlSeconds: 15 * 3600,
      });
      notified++;
    }
    return notified;
  });
}

export function calendarJobHandlers(db: Db): Record<string, JobHandler> {
  return {
    [REMINDER_QUEUE]: async (job: Job) => {
      const due = Date.parse(String(job.payload.due));
      // The next evening is queued first, so a failing evening never ends the chain.
      await scheduleReminders(db, eveningAfter(Math.max(due + 1, Date.now())));
      const tomorrow = addDays(todayInJapan(new Date(due)), 1);
      for (const tenant of await listTenants(db)) await remindTenant(db, tenant.code, tomorrow);
    },
  };
}
