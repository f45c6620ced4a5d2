/** Myカレンダー's API as the portal calls it (the resident's home municipality unless told). */
import { apiCall } from '../shared/api-call.ts';
import type { ResidentSession } from './auth.ts';

export interface GarbageDay {
  date: string;
  category: string;
  color?: string;
  description?: string;
  remarks: string[];
}

export interface MyCalendar {
  municipality: { code: string; name: string; nameEn: string };
  garbageArea: string | null;
  garbageAreaKnown: boolean;
  garbageDays: GarbageDay[];
}

export interface CalendarSettings {
  garbageArea: string | null;
  eveningReminder: boolean;
  feed: boolean;
}

const call = (s: ResidentSession, path: string, method = 'GET', body?: unknown) =>
  apiCall(`/api/v1/me/calendar${path}`, s.accessToken, { method, body });

export const fetchCalendar = async (s: ResidentSession, days = 14) => {
  const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
  const to = new Date(Date.parse(today) + days * 86_400_000).toISOString().slice(0, 10);
  return (await (await call(s, `?from=${today}&to=${to}`)).json()) as MyCalendar;
};
export const fetchSettings = async (s: ResidentSession) =>
  (await (await call(s, '/settings')).json()) as CalendarSettings;
export const saveSettings = async (s: ResidentSession, settings: Omit<CalendarSettings, 'feed'>) =>
  (await call(s, '/settings', 'PUT', settings)).json();
export const createFeed = async (s: ResidentSession) =>
  (await (await call(s, '/feed', 'POST')).json()) as { url: string; webcalUrl: string };
export const stopFeed = (s: ResidentSession) => call(s, '/feed', 'DELETE');

/** The areas of a municipality's garbage schedule (public); none when it has no schedule yet. */
export async function fetchAreas(code: string): Promise<string[]> {
  const response = await fetch(`/api/v1/tenants/${code}/garbage/areas`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`areas: ${response.status}`);
  return ((await response.json()) as { areas: string[] }).areas;
}
