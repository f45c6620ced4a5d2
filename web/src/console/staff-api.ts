/**
 * The staff API of the signed-in municipality, as the console calls it: every call carries the
 * session's token; a 401 means the session is over (the page then asks to sign in again), and a
 * refusal's problem detail (RFC 9457) is passed on to be shown.
 */
import { apiCall, Refused, SessionEnded } from '../shared/api-call.ts';
import type { StaffSession } from './auth.ts';

export interface Me {
  displayName: string;
  email: string | null;
  tenant: { code: string; name: string; nameEn: string };
  roles: string[];
  actions: string[];
}

export interface ServiceClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  disabled: boolean;
}

export interface NewServiceClient {
  name: string;
  redirectUris: string[];
  backchannelLogoutUri?: string;
  scopes: string[];
  public: boolean;
  serviceAccess: boolean;
}

export { Refused, SessionEnded };

async function call<T>(
  session: StaffSession,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await apiCall(`/api/v1/staff/tenants/${session.tenant}${path}`, session.accessToken, init);
  return (await response.json()) as T;
}

export const fetchMe = (session: StaffSession) => call<Me>(session, '/me');

export const fetchClients = async (session: StaffSession) =>
  (await call<{ clients: ServiceClient[] }>(session, '/clients')).clients;

export const registerClient = (session: StaffSession, client: NewServiceClient) =>
  call<{ clientId: string; clientSecret: string | null }>(session, '/clients', {
    method: 'POST',
    body: client,
  });

export interface GarbageSchedule {
  id: string;
  importedAt: string;
  files: { name: string; sha256: string; encoding: string; bytes: number }[];
  categories: { name: string }[];
  areas: { name: string; centre: string | null }[];
}

export interface DayChange {
  id: string;
  date: string;
  moveTo?: string;
  category?: string;
  area?: string;
  reason: string;
}

/** A refused import: the problem's detail and every problem it names. */
export interface ImportProblem {
  detail: string;
  problems: { name: string; reason: string }[];
}

/** The schedule in force; null before the first import. */
export async function fetchGarbage(session: StaffSession): Promise<GarbageSchedule | null> {
  try {
    return await call<GarbageSchedule>(session, '/garbage');
  } catch (failure) {
    if (failure instanceof Refused && failure.status === 404) return null;
    throw failure;
  }
}

/** Uploads 5374 files; a refusal with its problems is returned, not thrown, to be listed. */
export async function uploadGarbageFiles(
  session: StaffSession,
  files: File[],
): Promise<{ areas: number } | ImportProblem> {
  const form = new FormData();
  for (const file of files) form.append('file', file, file.name);
  const response = await fetch(`/api/v1/staff/tenants/${session.tenant}/garbage/imports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' },
    body: form,
  });
  if (response.status === 401) throw new SessionEnded();
  const body = (await response.json()) as {
    areas?: number;
    detail?: string;
    invalidParams?: { name: string; reason: string }[];
  };
  if (response.ok) return { areas: body.areas ?? 0 };
  if (response.status === 400) return { detail: body.detail ?? '', problems: body.invalidParams ?? [] };
  throw new Refused(response.status, body.detail ?? String(response.status));
}

export const previewArea = async (session: StaffSession, area: string, from: string, to: string) =>
  (
    await call<{ days: { date: string; category: string }[] }>(
      session,
      `/garbage/areas/${encodeURIComponent(area)}/days?from=${from}&to=${to}`,
    )
  ).days;

export const fetchDayChanges = async (session: StaffSession) =>
  (await call<{ exceptions: DayChange[] }>(session, '/garbage/exceptions')).exceptions;

export const addDayChange = (
  session: StaffSession,
  change: Omit<DayChange, 'id' | 'reason'> & { reason?: string },
) => call<{ id: string }>(session, '/garbage/exceptions', { method: 'POST', body: change });

export const removeDayChange = (session: StaffSession, id: string) =>
  apiCall(`/api/v1/staff/tenants/${session.tenant}/garbage/exceptions/${id}`, session.accessToken, {
    method: 'DELETE',
  });
