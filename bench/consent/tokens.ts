/**
 * Tokens for the broker, got the way a service gets them from Machi's provider: acting for a
 * resident (authorization code with PKCE, after the resident logs in and ticks the purposes on the
 * consent page, which records their consent), or acting as itself (client credentials).
 */
import * as oidc from 'openid-client';
import { brokerResource } from '../../src/identity/index.ts';
import { type Announcement, ITEMS, PASSWORD, REDIRECT_URI } from './shared.ts';

/** Just enough of a browser: cookies, forms, and the provider's redirects up to the service. */
class Browser {
  readonly #cookies = new Map<string, string>();
  page = '';

  async #request(url: string, form?: Record<string, string | string[]>): Promise<Response> {
    const headers: Record<string, string> = {
      'accept-language': 'ja',
      cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    };
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const pairs = Object.entries(form).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]),
      );
      body = new URLSearchParams(pairs).toString();
    }
    const response = await fetch(url, { method: form ? 'POST' : 'GET', headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [name, ...rest] = (line.split(';')[0] as string).split('=');
      this.#cookies.set((name as string).trim(), rest.join('='));
    }
    return response;
  }

  /** Follows redirects; returns the URL that reached the service, or the page's URL (in `page`). */
  async follow(url: string, form?: Record<string, string | string[]>): Promise<string> {
    let at = url;
    let response = await this.#request(at, form);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (!location) {
        this.page = await response.text();
        return at;
      }
      at = new URL(location, at).href;
      if (at.startsWith(REDIRECT_URI)) return at;
      response = await this.#request(at);
    }
    throw new Error('too many redirects');
  }

  /** Submits the form of the page shown whose action ends with `ending`. */
  submit(base: string, ending: string, fields: Record<string, string | string[]>): Promise<string> {
    const csrf = /name="csrf" value="([^"]+)"/.exec(this.page)?.[1];
    const action = [...this.page.matchAll(/action="([^"]+)"/g)]
      .map((m) => m[1])
      .find((a) => a?.endsWith(ending));
    if (!csrf || !action) throw new Error(`no ${ending} form on the page:\n${this.page.slice(0, 500)}`);
    return this.follow(`${base}${action}`, { csrf, ...fields });
  }

  field(name: string): string | undefined {
    return new RegExp(`name="${name}" value="([^"]+)"`).exec(this.page)?.[1];
  }
}

export function discover(machi: Announcement): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(`http://127.0.0.1:${machi.port}/oidc`),
    machi.clientId,
    machi.clientSecret,
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
}

/** The resident logs in to the service and consents to every item; the service's broker token. */
export async function residentToken(
  config: oidc.Configuration,
  base: string,
  email: string,
): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid ngsi-ld',
    resource: brokerResource(base),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new Browser();
  await browser.follow(url.href);
  let at = await browser.submit(base, '/login', { email, password: PASSWORD });
  if (!at.startsWith(REDIRECT_URI)) {
    const version = browser.field('version');
    const shown = browser.field('shown');
    const items = ITEMS.map((i) => `${i.category}:${i.purpose}`);
    at = await browser.submit(base, '/confirm', version && shown ? { version, shown, item: items } : {});
  }
  if (!at.startsWith(REDIRECT_URI)) throw new Error(`the login did not reach the service: ${at}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(at), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return tokens.access_token;
}

/** The service's own broker token (client credentials default to the broker). */
export async function serviceToken(config: oidc.Configuration): Promise<string> {
  return (await oidc.clientCredentialsGrant(config, {})).access_token;
}
