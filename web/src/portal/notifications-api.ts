/** お知らせ (the resident's inbox) and this device's Web Push, as the portal calls them. */
import { apiCall } from '../shared/api-call.ts';
import type { Lang } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';

export interface InboxItem {
  id: string;
  kind: string;
  title: string;
  body: string;
  url: string | null;
  municipality: { code: string; name: string; nameEn: string };
  createdAt: string;
  readAt: string | null;
}

export interface InboxPage {
  notifications: InboxItem[];
  /** Pass as `before` for the next (older) page; null on the last. */
  next: string | null;
}

export interface Device {
  id: string;
  label: string | null;
  pushService: string;
  createdAt: string;
  lastPush: { status: string; at: string; reason: string | null } | null;
}

const call = (s: ResidentSession, path: string, method = 'GET', body?: unknown) =>
  apiCall(`/api/v1/me/notifications${path}`, s.accessToken, { method, body });

const json = async <T>(s: ResidentSession, path: string, method = 'GET', body?: unknown) =>
  (await (await call(s, path, method, body)).json()) as T;

export const PAGE_SIZE = 20;

export const fetchInbox = (s: ResidentSession, before?: string) =>
  json<InboxPage>(s, `?limit=${PAGE_SIZE}${before ? `&before=${encodeURIComponent(before)}` : ''}`);
export const fetchUnread = async (s: ResidentSession) =>
  (await json<{ unread: number }>(s, '/unread-count')).unread;
export const markRead = (s: ResidentSession, id: string) =>
  call(s, `/${encodeURIComponent(id)}/read`, 'POST');
export const markAllRead = (s: ResidentSession) => json<{ marked: number }>(s, '/read-all', 'POST');

export const fetchPushKey = async (s: ResidentSession) =>
  (await json<{ applicationServerKey: string }>(s, '/push/key')).applicationServerKey;
export const fetchDevices = async (s: ResidentSession) =>
  (await json<{ devices: Device[] }>(s, '/push/devices')).devices;
export const registerDevice = (s: ResidentSession, subscription: PushSubscriptionJSON, label: string) =>
  json<Device>(s, '/push/devices', 'POST', { ...subscription, label });
export const removeDevice = (s: ResidentSession, id: string) =>
  call(s, `/push/devices/${encodeURIComponent(id)}`, 'DELETE');
export const testDevice = (s: ResidentSession, id: string, lang: Lang) =>
  call(s, `/push/devices/${encodeURIComponent(id)}/test?lang=${lang}`, 'POST');
