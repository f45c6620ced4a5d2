/**
 * The garbage days of an area as the portal and the feed show them: the schedule in force expanded
 * over a period, with the staff's day changes, each day carrying its category's colour and remarks.
 */
import { ValidationFailed } from '../../platform/index.ts';
import { addDays, collectionDays, isIsoDate } from './garbage-5374.ts';
import type { GarbageSchedule } from './garbage-import.ts';
import type { StoredException } from './store.ts';

export interface GarbageDay {
  date: string;
  category: string;
  /** The category's colour from description.csv, when given. */
  color?: string | undefined;
  description?: string | undefined;
  remarks: string[];
}

/** The longest period one request expands (a year and a month: a year's calendar, with margins). */
export const MAX_PERIOD_DAYS = 400;

/** Today's date in Japan, `YYYY-MM-DD`. */
export function todayInJapan(now = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/**
 * The period a request asks for: `from` defaults to today in Japan, `to` to 30 days later.
 * @throws ValidationFailed for dates that are not dates, reversed or too long
 */
export function periodOf(query: { from?: string | undefined; to?: string | undefined }): {
  from: string;
  to: string;
} {
  const from = query.from ?? todayInJapan();
  const to = query.to ?? addDays(from, 30);
  const problems = [];
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isIsoDate(value)) {
      problems.push({ name, reason: `"${value}" is not a date (YYYY-MM-DD)` });
    }
  }
  if (problems.length === 0 && from > to) problems.push({ name: 'to', reason: `${to} is before ${from}` });
  if (problems.length === 0 && Date.parse(to) - Date.parse(from) > MAX_PERIOD_DAYS * 86_400_000) {
    problems.push({ name: 'to', reason: `a period is at most ${MAX_PERIOD_DAYS} days` });
  }
  if (problems.length > 0) throw new ValidationFailed('the period is not valid', problems);
  return { from, to };
}

export function garbageDays(
  schedule: GarbageSchedule,
  exceptions: readonly StoredException[],
  areaName: string,
  period: { from: string; to: string },
): GarbageDay[] | undefined {
  const area = schedule.areas.find((a) => a.area === areaName);
  if (!area) return undefined;
  const categories = new Map(schedule.categories.map((c) => [c.name, c]));
  return collectionDays(area, period, { pauses: schedule.pauses, exceptions }).map((d) => {
    const category = categories.get(d.category);
    return {
      date: d.date,
      category: d.category,
      color: category?.color,
      description: category?.description || undefined,
      remarks: d.remarks.flatMap((r) => schedule.remarks[String(r)] ?? []),
    };
  });
}
