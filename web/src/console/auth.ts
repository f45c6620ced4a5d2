/**
 * Staff sign-in: the console is a public OpenID client of this Machi (`machi-console`). It asks for
 * a token for one municipality's staff API (the `resource`); the provider requires two factors and
 * a staff role there.
 */
import { oidcClient, type Session } from '../shared/oidc-session.ts';

export { SignInError } from '../shared/oidc-session.ts';

export const CLIENT_ID = 'machi-console';
const STAFF_API = '/api/v1/staff/tenants';

export interface StaffSession extends Session {
  tenant: string;
}

const client = oidcClient<{ tenant: string }>({
  clientId: CLIENT_ID,
  path: '/console/',
  key: 'machi.console',
  scope: 'openid profile staff',
});

export const staffResource = (tenant: string) => `${location.origin}${STAFF_API}/${tenant}`;

/** Sends the browser to the provider's sign-in for the tenant. */
export const startSignIn = (tenant: string, lang: string) =>
  client.start(staffResource(tenant), lang, { tenant });
export const completeSignIn = (): Promise<StaffSession | undefined> => client.complete();
export const currentSession = (): StaffSession | undefined => client.current();
export const forgetSession = () => client.forget();
export const signOut = (session: StaffSession) => client.signOut(session);
