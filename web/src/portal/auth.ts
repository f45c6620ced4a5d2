/**
 * Resident login: the portal is a public OpenID client of this Machi (`machi-portal`) that asks
 * for a token for the resident's own API (My Page) only. A resident who logged in to a service
 * before is let in without the password again (single sign-on).
 */
import { oidcClient, type Session } from '../shared/oidc-session.ts';

export { SignInError } from '../shared/oidc-session.ts';

export type ResidentSession = Session;

const client = oidcClient<Record<string, never>>({
  clientId: 'machi-portal',
  path: '/',
  key: 'machi.portal',
  scope: 'openid profile me',
});

export const meResource = () => `${location.origin}/api/v1/me`;

export const startLogin = (lang: string) => client.start(meResource(), lang, {});
export const completeLogin = (): Promise<ResidentSession | undefined> => client.complete();
export const currentSession = (): ResidentSession | undefined => client.current();
export const forgetSession = () => client.forget();
export const logOut = (session: ResidentSession) => client.signOut(session);
