/**
 * The token endpoint: client credentials and authorization-code exchanges per second through
 * Machi's OpenID provider, against a bare Fastify route answering a token response from memory;
 * and what one password hash costs. Servers run in child processes; the load comes from here.
 */
import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { hashPassword, verifyPassword } from '../../src/identity/index.ts';
import { startChild } from '../child.ts';
import { type Comparison, compare, type Measure } from '../result.ts';
import { PASSWORD, REDIRECT_URI } from './shared.ts';

export interface IdentityOptions {
  connections: number;
  durationSeconds: number;
  rounds: number;
  /** Codes minted (by single sign-on) and exchanged per round; they live 60 s, so they are used at once. */
  codes: number;
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}

interface Machi {
  port: number;
  email: string;
  clientId: string;
  clientSecret: string;
}

const VERIFIER = 'bench-verifier-'.padEnd(64, 'v');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Just enough of a browser to log in once and then collect codes by single sign-on. */
class Session {
  readonly cookies = new Map<string, string>();
  async get(url: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    };
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = (pair as string).split('=');
      this.cookies.set((name as string).trim(), rest.join('='));
    }
    return response;
  }
  /** Follows redirects; returns the code when one reaches the redirect URI, or the page shown. */
  async follow(
    url: string,
    form?: Record<string, string>,
  ): Promise<{ code?: string; page?: string; at: string }> {
    let at = url;
    let response = await this.get(at, form);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location');
      if (!location) return { page: await response.text(), at };
      at = new URL(location, at).href;
      if (at.startsWith(REDIRECT_URI)) return { code: new URL(at).searchParams.get('code') ?? undefined, at };
      response = await this.get(at);
    }
    throw new Error('too many redirects');
  }
}

function authorizeUrl(base: string, clientId: string): string {
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'bench',
  });
  return `${base}/oidc/auth?${params}`;
}

/** Logs the resident in (password, consent) so that later authorization requests need no page. */
async function logIn(base: string, machi: Machi): Promise<Session> {
  const session = new Session();
  const submit = async (page: string, ending: string, extra: Record<string, string>) => {
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const action = [...page.matchAll(/action="([^"]+)"/g)].map((m) => m[1]).find((a) => a?.endsWith(ending));
    if (!action) throw new Error(`no ${ending} form on the page`);
    return session.follow(`${base}${action}`, { csrf, ...extra });
  };
  const first = await session.follow(authorizeUrl(base, machi.clientId));
  const afterLogin = await submit(first.page ?? '', '/login', { email: machi.email, password: PASSWORD });
  if (afterLogin.code) return session;
  const afterConsent = await submit(afterLogin.page ?? '', '/confirm', {});
  if (!afterConsent.code) throw new Error('the login did not reach the service');
  return session;
}

async function mintCodes(base: string, machi: Machi, session: Session, count: number): Promise<string[]> {
  const codes: string[] = [];
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (codes.length < count) {
        const { code } = await session.follow(authorizeUrl(base, machi.clientId));
        if (!code) throw new Error('single sign-on did not give a code');
        codes.push(code);
      }
    }),
  );
  return codes.slice(0, count);
}

/** Sends one request per body, `connections` at a time; requests per second and p99. */
async function exchangeAll(url: string, auth: string, bodies: string[], connections: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string;
        const t0 = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { ...FORM, authorization: auth },
          body,
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${text}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    perSecond: bodies.length / ((performance.now() - started) / 1000),
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

function best(label: string, runs: { perSecond: number; p99Ms: number }[]): Measure {
  const top = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  return {
    label,
    value: top.perSecond,
    p99Ms: Math.round(top.p99Ms * 10) / 10,
    runs: runs.map((r) => r.perSecond),
  };
}

async function clientCredentials(url: string, auth: string, options: IdentityOptions) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: options.connections,
    duration: options.durationSeconds,
    headers: { ...FORM, authorization: auth },
    body: 'grant_type=client_credentials',
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`${url}: ${failed} of ${result.requests.total} token requests failed`);
  return { perSecond: result.requests.average, p99Ms: result.latency.p99 };
}

export async function runIdentityBenchmarks(options: IdentityOptions): Promise<Comparison[]> {
  const bare = await startChild<{ port: number }>('./identity/server.ts', ['bare']);
  const machi = await startChild<Machi>(
    './identity/server.ts',
    ['machi'],
    options.databaseUrl ? { MACHI_BENCH_DATABASE_URL: options.databaseUrl } : {},
  );
  try {
    const m = machi.message;
    const base = `http://127.0.0.1:${m.port}`;
    const bareToken = `http://127.0.0.1:${bare.message.port}/oidc/token`;
    const auth = `Basic ${Buffer.from(`${m.clientId}:${m.clientSecret}`).toString('base64')}`;
    const where = options.databaseUrl ? 'PostgreSQL' : 'embedded database';
    const cc = {
      bare: [] as { perSecond: number; p99Ms: number }[],
      machi: [] as { perSecond: number; p99Ms: number }[],
    };
    const code = { bare: [] as typeof cc.bare, machi: [] as typeof cc.bare };
    const session = await logIn(base, m);
    for (let round = 1; round <= options.rounds; round++) {
      cc.bare.push(await clientCredentials(bareToken, auth, options));
      cc.machi.push(await clientCredentials(`${base}/oidc/token`, auth, options));
      const codes = await mintCodes(base, m, session, options.codes);
      const bodies = codes.map((c) =>
        new URLSearchParams({
          grant_type: 'authorization_code',
          code: c,
          redirect_uri: REDIRECT_URI,
          code_verifier: VERIFIER,
        }).toString(),
      );
      code.machi.push(await exchangeAll(`${base}/oidc/token`, auth, bodies, options.connections));
      code.bare.push(await exchangeAll(bareToken, auth, bodies, options.connections));
      options.log(
        `  round ${round}: client credentials ${Math.round(cc.machi.at(-1)?.perSecond ?? 0)}/s (bare ${Math.round(cc.bare.at(-1)?.perSecond ?? 0)}/s), code exchange ${Math.round(code.machi.at(-1)?.perSecond ?? 0)}/s (bare ${Math.round(code.bare.at(-1)?.perSecond ?? 0)}/s)`,
      );
    }
    const hashing = await hashingCost();
    options.log(
      `  password hash (scrypt N=2^15, r=8, p=1; 32 MiB): ${hashing.hashMs.toFixed(0)} ms to hash, ${hashing.verifyMs.toFixed(0)} ms to verify`,
    );
    return [
      compare(
        'identity',
        `identity: client credentials (${where})`,
        'req/s',
        best('bare Fastify token route', cc.bare),
        best('Machi POST /oidc/token', cc.machi),
      ),
      compare(
        'identity',
        `identity: authorization code exchange (${where})`,
        'req/s',
        best('bare Fastify token route', code.bare),
        best('Machi POST /oidc/token', code.machi),
        'PKCE, client_secret_basic, ID token signed RS256',
      ),
      compare(
        'identity',
        'identity: password hash (scrypt, 32 MiB)',
        'ms',
        { label: 'verify', value: hashing.verifyMs, runs: [hashing.verifyMs] },
        { label: 'hash', value: hashing.hashMs, runs: [hashing.hashMs] },
        'the cost of one login by password, stated rather than compared',
      ),
    ];
  } finally {
    await bare.stop();
    await machi.stop();
  }
}

async function hashingCost(): Promise<{ hashMs: number; verifyMs: number }> {
  const runs = 5;
  let stored = '';
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) stored = await hashPassword(PASSWORD);
  const t1 = performance.now();
  for (let i = 0; i < runs; i++) await verifyPassword(PASSWORD, stored);
  const t2 = performance.now();
  return { hashMs: (t1 - t0) / runs, verifyMs: (t2 - t1) / runs };
}
