/**
 * The resident's own API as My Page calls it: every call carries the session's token; a 401 means
 * the session is over, and a refusal's problem detail (RFC 9457) is passed on to be shown.
 */
import { apiCall, Refused, SessionEnded } from '../shared/api-call.ts';
import type { Lang } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';

export interface Me {
  displayName: string;
  email: string | null;
  homeMunicipality: { code: string; name: string; nameEn: string } | null;
}

export interface ConsentItem {
  category: string;
  categoryName: string;
  sensitive: boolean;
  purpose: string;
  purposeName: string;
  retention: string;
  thirdParty: boolean;
  actions: string[];
}

export interface Consent {
  id: string;
  municipality: { code: string; name: string };
  service: { clientId: string; name: string };
  controller: string;
  state: 'given' | 'withdrawn' | 'expired' | 'superseded';
  givenAt: string;
  expiresAt: string | null;
  items: ConsentItem[];
}

export interface AccessEntry {
  at: string;
  text: string;
  decision: 'allow' | 'deny';
  seq: number;
  municipality: { code: string; name: string };
}

export interface Provision {
  at: string;
  recipient: string;
  controller: string;
  purposeName: string;
  categories: string[];
}

export interface RequestItem {
  key: string;
  categoryName: string;
  sensitive: boolean;
  purposeName: string;
  purposeDescription: string;
  retention: string;
  thirdParty: boolean;
  basis: string;
  granted: boolean;
  changed: boolean;
}

/** A service's request as the consent screen shows it, with the hash of its exact text. */
export interface ServiceRequest {
  clientId: string;
  serviceName: string;
  controller: string;
  version: number;
  asked: RequestItem[];
  informed: RequestItem[];
  askedAgain: boolean;
  text: string;
  shown: string;
}

export { Refused, SessionEnded };

const call = (session: ResidentSession, path: string, method = 'GET', body?: unknown) =>
  apiCall(`/api/v1/me${path}`, session.accessToken, { method, body });

const json = async <T>(session: ResidentSession, path: string, method = 'GET', body?: unknown) =>
  (await (await call(session, path, method, body)).json()) as T;

export const fetchMe = (s: ResidentSession) => json<Me>(s, '');
export const fetchConsents = async (s: ResidentSession, lang: Lang) =>
  (await json<{ consents: Consent[] }>(s, `/consents?lang=${lang}`)).consents;
export const withdraw = (s: ResidentSession, id: string) =>
  json<unknown>(s, `/consents/${id}/withdrawal`, 'POST');
export const fetchAccessLog = async (s: ResidentSession, lang: Lang) =>
  (await json<{ entries: AccessEntry[] }>(s, `/access-log?lang=${lang}`)).entries;
export const fetchProvisions = async (s: ResidentSession, lang: Lang) =>
  (await json<{ provisions: Provision[] }>(s, `/third-party-provisions?lang=${lang}`)).provisions;
export const eraseAll = (s: ResidentSession, lang: Lang) => json<unknown>(s, `/erasure?lang=${lang}`, 'POST');

/** Saves what the API returns as a file, under the name the API gives it. */
export async function download(s: ResidentSession, path: string): Promise<void> {
  const response = await call(s, path);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'machi-download';
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const fetchRequest = (s: ResidentSession, clientId: string, lang: Lang) =>
  json<ServiceRequest>(s, `/services/${encodeURIComponent(clientId)}/request?lang=${lang}`);
export const answerRequest = (s: ResidentSession, request: ServiceRequest, items: string[], lang: Lang) =>
  json<{ consentId: string; granted: string[] }>(
    s,
    `/services/${encodeURIComponent(request.clientId)}/consent`,
    'PUT',
    {
      lang,
      version: request.version,
      shown: request.shown,
      items,
    },
  );
