/**
 * Sign-in for Machi's own pages (the staff console, the resident portal): each is a public OpenID
 * client of this Machi, using the authorization code flow with PKCE, asking for a token for one of
 * Machi's APIs (the `resource`). The token lives in this tab's sessionStorage only, and goes when
 * the tab closes or the person signs out.
 */

export interface Session {
  accessToken: string;
  idToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export class SignInError extends Error {}

interface Pending<Extra> {
  state: string;
  verifier: string;
  extra: Extra;
}

export interface ClientOptions {
  clientId: string;
  /** The page the provider sends the browser back to (`/console/`, `/`). */
  path: string;
  /** Prefix of the sessionStorage keys. */
  key: string;
  scope: string;
}

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

/**
 * One client's sign-in. `Extra` is what the page wants back with the session (the console's
 * municipality); it travels in sessionStorage beside the PKCE verifier, never in the URL.
 */
export function oidcClient<Extra>(options: ClientOptions) {
  const pendingKey = `${options.key}.pending`;
  const sessionKey = `${options.key}.session`;
  const redirectUri = () => `${location.origin}${options.path}`;

  return {
    /** Sends the browser to the provider's sign-in for the resource. */
    async start(resource: string, lang: string, extra: Extra): Promise<void> {
      if (!globalThis.crypto?.subtle) {
        throw new SignInError('insecure-context');
      }
      const pending: Pending<Extra> = { state: randomText(), verifier: randomText(), extra };
      sessionStorage.setItem(pendingKey, JSON.stringify(pending));
      const url = new URL('/oidc/auth', location.origin);
      url.search = new URLSearchParams({
        client_id: options.clientId,
        response_type: 'code',
        redirect_uri: redirectUri(),
        scope: options.scope,
        resource,
        state: pending.state,
        code_challenge: await challengeOf(pending.verifier),
        code_challenge_method: 'S256',
        ui_locales: lang,
      }).toString();
      location.assign(url.href);
    },

    /**
     * Finishes a sign-in when the provider sent the browser back (`?code=` or `?error=`); undefined
     * when this page load is no such return. The address bar is cleaned either way.
     */
    async complete(): Promise<(Session & Extra) | undefined> {
      const params = new URLSearchParams(location.search);
      if (!params.has('code') && !params.has('error')) return undefined;
      history.replaceState(null, '', location.pathname);
      const pending = read<Pending<Extra>>(pendingKey);
      sessionStorage.removeItem(pendingKey);
      if (params.has('error')) throw new SignInError(params.get('error') ?? 'error');
      if (!pending || params.get('state') !== pending.state) throw new SignInError('state');
      const response = await fetch('/oidc/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: options.clientId,
          code: params.get('code') ?? '',
          redirect_uri: redirectUri(),
          code_verifier: pending.verifier,
        }),
      });
      if (!response.ok) throw new SignInError('token');
      const body = (await response.json()) as { access_token: string; id_token: string; expires_in: number };
      const session = {
        ...pending.extra,
        accessToken: body.access_token,
        idToken: body.id_token,
        expiresAt: Date.now() + body.expires_in * 1000,
      };
      sessionStorage.setItem(sessionKey, JSON.stringify(session));
      return session;
    },

    /** The session of this tab, unless it has expired. */
    current(): (Session & Extra) | undefined {
      const session = read<Session & Extra>(sessionKey);
      return session && session.expiresAt > Date.now() ? session : undefined;
    },

    forget(): void {
      sessionStorage.removeItem(sessionKey);
    },

    /** Ends the session here and at the provider (RP-initiated logout), back to the page. */
    signOut(session: Session): void {
      sessionStorage.removeItem(sessionKey);
      const url = new URL('/oidc/session/end', location.origin);
      url.search = new URLSearchParams({
        id_token_hint: session.idToken,
        post_logout_redirect_uri: redirectUri(),
        client_id: options.clientId,
      }).toString();
      location.assign(url.href);
    },
  };
}
