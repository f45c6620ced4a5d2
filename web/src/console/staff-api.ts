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
