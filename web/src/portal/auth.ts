/**
 * Resident login: the portal is a public OpenID client of this Machi (`machi-portal`) that asks
 * for a token for the resident's own API (My Page) only. A resident who logged in to a service
 * before is let in without the password again (single sign-on).
 */
import { apiCall } from '../shared/api-call.ts';
import { oidcClient, type Session } from '../shared/oidc-session.ts';
import { currentSubscription, storeDevice, storedDevice } from './push.ts';

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

/**
 * Logs out at the provider. This device stops receiving the resident's notifications first: on a
 * shared or handed-on phone, the next person must not see them.
 */
export async function logOut(session: ResidentSession) {
  const device = storedDevice();
  try {
    if (device) {
      await apiCall(`/api/v1/me/notifications/push/devices/${device.id}`, session.accessToken, {
        method: 'DELETE',
      });
    }
  } catch {
    // Already gone, or the session ended: the browser's subscription is still ended below.
  }
  try {
    await (await currentSubscription())?.unsubscribe();
  } catch {
    // No push support: nothing to end.
  }
  storeDevice(undefined);
  return client.signOut(session);
}
