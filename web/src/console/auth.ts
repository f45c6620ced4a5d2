/**
 * Staff sign-in: the console is a public OpenID client of this Machi (`machi-console`), using the
 * authorization code flow with PKCE. It asks for a token for one municipality's staff API (the
 * `resource`); the provider requires two factors and a staff role there. The token lives in this
 * tab's sessionStorage only, and goes when the tab closes or the staff member signs out.
 */

export const CLIENT_ID = 'machi-console';
const STAFF_API = '/api/v1/staff/tenants';
const pendingKey = 'machi.console.pending';
const sessionKey = 'machi.console.session';

export interface StaffSession {
  tenant: string;
  accessToken: string;
  idToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

interface Pending {
  state: string;
  verifier: string;
  tenant: string;
}

export class SignInError extends Error {}

const redirectUri = () => `${location.origin}/console/`;
export const staffResource = (tenant: string) => `${location.origin}${STAFF_API}/${tenant}`;

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function read<T>(key: string): T | undefined {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends the browser to the provider's sign-in for the tenant. */
export async function startSignIn(tenant: string, lang: string): Promise<void> {
  if (!globalThis.crypto?.subtle) {
    throw new SignInError('insecure-context');
  }
  const pending: Pending = { state: randomText(), verifier: randomText(), tenant };
  sessionStorage.setItem(pendingKey, JSON.stringify(pending));
  const url = new URL('/oidc/auth', location.origin);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: redirectUri(),
    scope: 'openid profile staff',
    resource: staffResource(tenant),
    state: pending.state,
    code_challenge: await challengeOf(pending.verifier),
    code_challenge_method: 'S256',
    ui_locales: lang,
  }).toString();
  location.assign(url.href);
}

/**
 * Finishes a sign-in when the provider sent the browser back (`?code=` or `?error=`); undefined
 * when this page load is no such return. The address bar is cleaned either way.
 */
export async function completeSignIn(): Promise<StaffSession | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return undefined;
  history.replaceState(null, '', location.pathname);
  const pending = read<Pending>(pendingKey);
  sessionStorage.removeItem(pendingKey);
  if (params.has('error')) throw new SignInError(params.get('error') ?? 'error');
  if (!pending || params.get('state') !== pending.state) throw new SignInError('state');
  const response = await fetch('/oidc/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new SignInError('token');
  const body = (await response.json()) as { access_token: string; id_token: string; expires_in: number };
  const session: StaffSession = {
    tenant: pending.tenant,
    accessToken: body.access_token,
    idToken: body.id_token,
    expiresAt: Date.now() + body.expires_in * 1000,
  };
  sessionStorage.setItem(sessionKey, JSON.stringify(session));
  return session;
}

/** The session of this tab, unless it has expired. */
export function currentSession(): StaffSession | undefined {
  const session = read<StaffSession>(sessionKey);
  return session && session.expiresAt > Date.now() ? session : undefined;
}

export function forgetSession(): void {
  sessionStorage.removeItem(sessionKey);
}

/** Ends the console session here and at the provider (RP-initiated logout), back to the console. */
export function signOut(session: StaffSession): void {
  forgetSession();
  const url = new URL('/oidc/session/end', location.origin);
  url.search = new URLSearchParams({
    id_token_hint: session.idToken,
    post_logout_redirect_uri: redirectUri(),
    client_id: CLIENT_ID,
  }).toString();
  location.assign(url.href);
}
