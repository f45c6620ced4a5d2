/**
 * A resident's private iCalendar feed (RFC 5545) of their garbage days, built with ical-generator:
 * all-day events (a date in Japan, no time of day), one per category and day, with a stable UID so
 * Google Calendar and iPhone update an event instead of adding a copy at each refresh. With the
 * evening reminder on, each event carries an alarm at 19:00 the day before.
 */
import ical, { ICalAlarmType, ICalCalendarMethod } from 'ical-generator';
import type { GarbageDay } from './days.ts';

export interface FeedOptions {
  /** Calendar name, e.g. 「金沢市 浅野 のごみ収集日」. */
  name: string;
  /** Identifies the feed in UIDs (tenant and area), so two areas' events never share one. */
  uidPrefix: string;
  /** Host part of UIDs (the deployment's host). */
  host: string;
  eveningReminder: boolean;
  lang: 'ja' | 'en';
}

const dateOnly = (date: string) => new Date(`${date}T00:00:00Z`);

export function garbageFeed(days: readonly GarbageDay[], options: FeedOptions): string {
  const calendar = ical({
    name: options.name,
    prodId: { company: 'Machi', product: 'calendar', language: options.lang === 'ja' ? 'JA' : 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    // Clients poll a feed; twelve hours keeps day changes staff enter reaching residents the same day.
    ttl: 12 * 3600,
  });
  for (const day of days) {
    const event = calendar.createEvent({
      id: `${options.uidPrefix}-${day.date}-${Buffer.from(day.category).toString('hex')}@${options.host}`,
      start: dateOnly(day.date),
      allDay: true,
      summary: options.lang === 'ja' ? `${day.category}の日` : `Collection: ${day.category}`,
      description: [day.description, ...day.remarks].filter(Boolean).join('\n') || null,
      stamp: dateOnly(day.date),
    });
    if (options.eveningReminder) {
      // Relative to the start of an all-day event: 00:00 that day, so five hours before is 19:00 the evening before.
      event.createAlarm({
        type: ICalAlarmType.display,
        trigger: 5 * 3600,
        description: options.lang === 'ja' ? `明日は${day.category}の日です` : `Tomorrow: ${day.category}`,
      });
    }
  }
  return calendar.toString();
}
