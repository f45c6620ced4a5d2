/**
 * Garbage collection schedules in the CSV format of the open-source 5374 (ゴミナシ) apps, which
 * many municipalities already publish: `area_days.csv` (one row per area, one column per garbage
 * category, each cell a list of day tokens), `center.csv` (collection centres' pauses) and
 * `remarks.csv`. Reading checks every cell and names each problem by line and column; expanding a
 * schedule gives the collection days of a period, with nth-weekday rules, month lists, explicit
 * dates, fortnightly rules, centre pauses and the holiday exceptions staff enter.
 *
 * Day tokens (5374's LOCALIZE.md and its parser):
 * - `月` … `日`: every week on that day;
 * - `水2`: the 2nd Wednesday of the month (the n-th occurrence, n = 1..5);
 * - `*1`: remark 1 of remarks.csv applies;
 * - `… :4 6 8 10 12 2`: only in those months;
 * - `20240401`: that date (a cell of such dates is an irregular schedule);
 * - `隔月20240401`: every other week on that day, from that date.
 * All dates are calendar dates in Japan; no time of day is involved.
 */
import { parse } from 'csv-parse/sync';
import { type InvalidParam, ValidationFailed } from '../../platform/index.ts';

const WEEKDAYS = '日月火水木金土';

export type Rule =
  | { kind: 'weekly'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number }
  | { kind: 'date'; date: string }
  | { kind: 'fortnightly'; weekday: number; from: string };

/** One area's rules for one garbage category. */
export interface CategoryDays {
  category: string;
  rules: Rule[];
  /** Months (1–12) the rules apply in; undefined: every month. */
  months?: number[] | undefined;
  /** Remark ids (remarks.csv) attached to the cell. */
  remarks: number[];
}

export interface AreaSchedule {
  area: string;
  /** The collection centre (center.csv), when given. */
  center?: string | undefined;
  categories: CategoryDays[];
}

/** A centre's pause (年末年始): no collection from `from` to `to`, both included. */
export interface CentrePause {
  centre: string;
  from: string;
  to: string;
}

/**
 * A change staff enter for one day (a public holiday, a storm): collection of the category (or of
 * every category) in the area (or every area) on `date` is cancelled, or moved to `moveTo`.
 */
export interface DayException {
  date: string;
  category?: string | undefined;
  area?: string | undefined;
  moveTo?: string | undefined;
}

export interface CollectionDay {
  date: string;
  category: string;
  remarks: number[];
}

const DATE8 = /^(\d{4})(\d{2})(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` of a real calendar date, or undefined. */
function realDate(year: number, month: number, day: number): string | undefined {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day)
    return undefined;
  return d.toISOString().slice(0, 10);
}

/** Whether `value` is `YYYY-MM-DD` of a real calendar date (not 2026-02-30). */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  return m !== null && realDate(Number(m[1]), Number(m[2]), Number(m[3])) !== undefined;
}

const weekdayOf = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

type Token = { rule: Rule } | { remark: number } | { problem: string };

/** One day token of a cell. */
function readToken(token: string): Token {
  const weekday = WEEKDAYS.indexOf(token[0] ?? '');
  if (token.length === 1 && weekday >= 0) return { rule: { kind: 'weekly', weekday } };
  if (token.length === 2 && weekday >= 0 && /^[1-5]$/.test(token[1] ?? '')) {
    return { rule: { kind: 'nth', weekday, nth: Number(token[1]) } };
  }
  const remark = /^\*(\d+)$/.exec(token);
  if (remark) return { remark: Number(remark[1]) };
  const digits = DATE8.exec(token);
  if (digits) {
    const date = realDate(Number(digits[1]), Number(digits[2]), Number(digits[3]));
    return date ? { rule: { kind: 'date', date } } : { problem: `${token} is not a date` };
  }
  const fortnight = /^隔([日月火水木金土])(\d{4})(\d{2})(\d{2})$/.exec(token);
  if (fortnight) {
    const from = realDate(Number(fortnight[2]), Number(fortnight[3]), Number(fortnight[4]));
    const day = WEEKDAYS.indexOf(fortnight[1] as string);
    if (!from) return { problem: `${token}: the date is not a date` };
    if (weekdayOf(from) !== day) return { problem: `${token}: ${from} is not a ${fortnight[1]}曜日` };
    return { rule: { kind: 'fortnightly', weekday: day, from } };
  }
  return {
    problem: `"${token}" is not a day: use 月…日 (every week), 水2 (the 2nd Wednesday), YYYYMMDD, 隔水YYYYMMDD or *1 (a remark)`,
  };
}

/** The rules of one cell; problems are pushed, named by `where`. */
function parseCell(cell: string, where: string, problems: InvalidParam[]) {
  const [daysPart = '', monthsPart] = cell.split(/[:：]/);
  const rules: Rule[] = [];
  const remarks: number[] = [];
  const bad = (reason: string) => problems.push({ name: where, reason });
  for (const token of daysPart
    .trim()
    .split(/[\s　]+/)
    .filter(Boolean)) {
    const read = readToken(token);
    if ('rule' in read) rules.push(read.rule);
    else if ('remark' in read) remarks.push(read.remark);
    else bad(read.problem);
  }
  let months: number[] | undefined;
  if (monthsPart !== undefined) {
    months = [];
    for (const token of monthsPart
      .trim()
      .split(/[\s　]+/)
      .filter(Boolean)) {
      const month = Number(token);
      if (Number.isInteger(month) && month >= 1 && month <= 12) months.push(month);
      else bad(`"${token}" after the colon is not a month (1–12)`);
    }
    if (months.length === 0) bad('the colon must be followed by months (1–12)');
  }
  return { rules, months, remarks };
}

export function rowsOf(csv: string, file: string): string[][] {
  try {
    return parse(csv.replace(/^\uFEFF/, ''), {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    throw new ValidationFailed(`${file} is not CSV: ${(error as Error).message}`, []);
  }
}

/**
 * Reads area_days.csv: the first column is the area, the second the centre, the others one
 * garbage category each (the header names it).
 * @throws ValidationFailed naming every bad cell as `line N, <column>`
 */
export function readAreaDays(csv: string): AreaSchedule[] {
  const [header, ...rows] = rowsOf(csv, 'area_days.csv');
  if (!header || header.length < 3) {
    throw new ValidationFailed('area_days.csv needs a header: 地名, センター, then one column per category', [
      { name: 'line 1', reason: 'expected at least 3 columns' },
    ]);
  }
  const categories = header.slice(2);
  const problems: InvalidParam[] = [];
  categories.forEach((c, i) => {
    if (!c) problems.push({ name: `line 1, column ${i + 3}`, reason: 'a category column needs a name' });
  });
  const seen = new Set<string>();
  const areas: AreaSchedule[] = [];
  rows.forEach((row, index) => {
    const line = index + 2;
    const area = row[0] ?? '';
    if (!area) problems.push({ name: `line ${line}, 地名`, reason: 'the area has no name' });
    else if (seen.has(area)) problems.push({ name: `line ${line}, 地名`, reason: `${area} is listed twice` });
    seen.add(area);
    if (row.length !== header.length) {
      problems.push({
        name: `line ${line}`,
        reason: `${row.length} columns where the header has ${header.length}`,
      });
    }
    areas.push({
      area,
      center: row[1] || undefined,
      categories: categories.flatMap((category, i) => {
        const cell = row[i + 2] ?? '';
        if (!cell) return [];
        return [{ category, ...parseCell(cell, `line ${line}, ${category}`, problems) }];
      }),
    });
  });
  if (problems.length > 0) {
    throw new ValidationFailed(
      `area_days.csv has ${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was imported`,
      problems,
    );
  }
  return areas;
}

/**
 * Reads center.csv (名称, 休止開始日, 休止終了日; dates as YYYY/MM/DD).
 * @throws ValidationFailed naming every bad cell
 */
export function readCentres(csv: string): CentrePause[] {
  const [, ...rows] = rowsOf(csv, 'center.csv');
  const problems: InvalidParam[] = [];
  const pauses: CentrePause[] = [];
  rows.forEach((row, index) => {
    const line = index + 2;
    const dates = [row[1], row[2]].map((value, i) => {
      const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value ?? '');
      const date = m ? realDate(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
      if (!date) {
        problems.push({
          name: `line ${line}, ${i === 0 ? '休止開始日' : '休止終了日'}`,
          reason: `"${value ?? ''}" is not a date (YYYY/MM/DD)`,
        });
      }
      return date;
    });
    const [from, to] = dates;
    if (!row[0]) problems.push({ name: `line ${line}, 名称`, reason: 'the centre has no name' });
    else if (from && to && from > to)
      problems.push({ name: `line ${line}`, reason: `the pause ends (${to}) before it starts (${from})` });
    else if (from && to) pauses.push({ centre: row[0], from, to });
  });
  if (problems.length > 0) {
    throw new ValidationFailed(
      `center.csv has ${problems.length} problem${problems.length > 1 ? 's' : ''}`,
      problems,
    );
  }
  return pauses;
}

function ruleHits(rule: Rule, date: string): boolean {
  switch (rule.kind) {
    case 'weekly':
      return weekdayOf(date) === rule.weekday;
    case 'nth':
      return weekdayOf(date) === rule.weekday && Math.ceil(Number(date.slice(8, 10)) / 7) === rule.nth;
    case 'date':
      return rule.date === date;
    case 'fortnightly': {
      if (date < rule.from || weekdayOf(date) !== rule.weekday) return false;
      const days = (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${rule.from}T00:00:00Z`)) / 86_400_000;
      return days % 14 === 0;
    }
  }
}

/**
 * The collection days of an area from `from` to `to` (both included, `YYYY-MM-DD`), in date
 * order: each category's rules in its months, without the days its centre pauses, then the staff's
 * exceptions (a cancelled day goes; a moved one comes on its new date, also when it was moved into
 * the period from up to a month outside it).
 */
export function collectionDays(
  schedule: AreaSchedule,
  period: { from: string; to: string },
  options: { pauses?: readonly CentrePause[]; exceptions?: readonly DayException[] } = {},
): CollectionDay[] {
  if (!ISO_DATE.test(period.from) || !ISO_DATE.test(period.to) || period.from > period.to) {
    throw new ValidationFailed('the period is two dates, YYYY-MM-DD, the first not after the second', []);
  }
  const pauses = (options.pauses ?? []).filter((p) => p.centre === schedule.center);
  const applies = (e: DayException, category: string) =>
    (e.category === undefined || e.category === category) &&
    (e.area === undefined || e.area === schedule.area);
  const days: CollectionDay[] = [];
  const within = (date: string) => date >= period.from && date <= period.to;
  const add = (date: string, c: CategoryDays) => {
    if (within(date)) days.push({ date, category: c.category, remarks: c.remarks });
  };
  // A day moved into the period may come from just outside it: look a month either side.
  for (let date = addDays(period.from, -31); date <= addDays(period.to, 31); date = addDays(date, 1)) {
    const month = Number(date.slice(5, 7));
    for (const c of schedule.categories) {
      if (c.months && !c.months.includes(month)) continue;
      if (!c.rules.some((r) => ruleHits(r, date))) continue;
      if (pauses.some((p) => p.from <= date && date <= p.to)) continue;
      const exception = (options.exceptions ?? []).find((e) => e.date === date && applies(e, c.category));
      if (exception) {
        if (exception.moveTo && ISO_DATE.test(exception.moveTo)) add(exception.moveTo, c);
        continue;
      }
      add(date, c);
    }
  }
  return days.sort((a, b) => a.date.localeCompare(b.date) || a.category.localeCompare(b.category));
}
