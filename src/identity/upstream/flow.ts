/**
 * Login through an upstream OpenID provider with openid-client: authorization code with PKCE
 * (S256), state and nonce kept server-side and used once; then the upstream subject names the
 * account through a link. A first login links the account of the session, or (card-backed providers
 * that may) makes a resident account whose home municipality comes from the verified address.
 */
import { importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import { BadRequest, type Db, type OutboundPolicy } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';
import { policedFetch } from '../outbound-fetch.ts';
import type { UpstreamProvider } from './config.ts';

const REQUEST_SECONDS = 10 * 60;

/** What the upstream said about the resident, kept until the interaction takes it. */
export interface UpstreamResult {
  subject: string;
  claims: Record<string, unknown>;
}

export type UpstreamAccount =
  | { outcome: 'success'; accountId: string; linked: boolean; created: boolean }
  | { outcome: 'unlinked' }
  | { outcome: 'no-municipality' };

export class Upstreams {
  readonly #providers: Map<string, UpstreamProvider>;
  readonly #configs = new Map<string, Promise<oidc.Configuration>>();
  readonly #outbound: OutboundPolicy;
  readonly #publicUrl: string;

  constructor(providers: UpstreamProvider[], outbound: OutboundPolicy, publicUrl: string) {
    this.#providers = new Map(providers.map((p) => [p.id, p]));
    this.#outbound = outbound;
    this.#publicUrl = publicUrl;
  }

  list(): UpstreamProvider[] {
    return [...this.#providers.values()];
  }

  get(id: string): UpstreamProvider | undefined {
    return this.#providers.get(id);
  }

  callbackUrl(id: string): string {
    return `${this.#publicUrl}/login/upstream/${id}/callback`;
  }

  /** The provider's discovered configuration, cached; a failed discovery is tried again next time. */
  #config(provider: UpstreamProvider): Promise<oidc.Configuration> {
    let config = this.#configs.get(provider.id);
    if (!config) {
      config = this.#discover(provider);
      this.#configs.set(provider.id, config);
      config.catch(() => this.#configs.delete(provider.id));
    }
    return config;
  }

  async #discover(provider: UpstreamProvider): Promise<oidc.Configuration> {
    const auth = provider.privateKeyPem
      ? oidc.PrivateKeyJwt(await importPkcs8(provider.privateKeyPem))
      : oidc.ClientSecretBasic(provider.clientSecret);
    const options: oidc.DiscoveryRequestOptions = {
      [oidc.customFetch]: policedFetch(this.#outbound) as unknown as oidc.CustomFetch,
      // Plain http only for a provider the operator configured so (a test double on loopback).
      execute: provider.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
    };
    return oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, auth, options);
  }

  /** Starts a login: stores PKCE verifier, state and nonce for `uid`; returns where to send the browser. */
  async start(db: Db, provider: UpstreamProvider, uid: string): Promise<URL> {
    const config = await this.#config(provider);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await db.query(
      `insert into identity.upstream_requests (state, provider, interaction_uid, code_verifier, nonce, expires_at)
       values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [state, provider.id, uid, verifier, nonce, REQUEST_SECONDS],
    );
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.callbackUrl(provider.id),
      scope: provider.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(provider.acrValues ? { acr_values: provider.acrValues } : {}),
    });
  }

  /**
   * The upstream's answer at our callback: the request is used up, the code exchanged, the ID token
   * checked (issuer, audience, nonce, signature). Returns the interaction to go back to and the state.
   * @throws BadRequest for an unknown, used or expired request, or an answer the upstream refused
   */
  async callback(db: Db, provider: UpstreamProvider, url: URL): Promise<{ uid: string; state: string }> {
    const state = url.searchParams.get('state') ?? '';
    const { rows } = await db.query<{ interaction_uid: string; nonce: string; code_verifier: string }>(
      `update identity.upstream_requests r set code_verifier = ''
         from (select state, code_verifier from identity.upstream_requests
                where state = $1 and provider = $2 and code_verifier <> '' and expires_at > now() for update) old
        where r.state = old.state
        returning r.interaction_uid, r.nonce, old.code_verifier`,
      [state, provider.id],
    );
    const request = rows[0];
    if (!request) throw new BadRequest('this login has expired or was used already; please start again');
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    const config = await this.#config(provider);
    try {
      tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: request.code_verifier,
        expectedState: state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new BadRequest(`${provider.name.en} did not complete the login (${(error as Error).message})`);
    }
    const idClaims = tokens.claims() as Record<string, unknown>;
    const subject = String(idClaims.sub);
    const info = provider.verifiedClaims
      ? await oidc.fetchUserInfo(config, tokens.access_token, subject)
      : {};
    const result: UpstreamResult = { subject, claims: { ...idClaims, ...info } };
    await db.query('update identity.upstream_requests set result = $2 where state = $1', [
      state,
      JSON.stringify(result),
    ]);
    return { uid: request.interaction_uid, state };
  }

  /** Takes (once) the upstream's answer kept for this interaction. */
  async take(
    db: Db,
    uid: string,
    state: string,
  ): Promise<{ provider: UpstreamProvider; result: UpstreamResult } | undefined> {
    const { rows } = await db.query<{ provider: string; result: UpstreamResult }>(
      `delete from identity.upstream_requests
        where state = $1 and interaction_uid = $2 and result is not null and expires_at > now()
        returning provider, result`,
      [state, uid],
    );
    const provider = rows[0] && this.get(rows[0].provider);
    return provider && rows[0] ? { provider, result: rows[0].result } : undefined;
  }
}

async function importPkcs8(pem: string): Promise<Parameters<typeof oidc.PrivateKeyJwt>[0]> {
  return importPKCS8(pem, 'RS256');
}

/** The municipality named at the start of an address (「宮城県仙台市青葉区…」 → 仙台市's code). */
async function municipalityOf(db: Db, address: unknown): Promise<string | undefined> {
  const text =
    typeof address === 'string'
      ? address
      : typeof address === 'object' && address
        ? String((address as { formatted?: unknown }).formatted ?? '')
        : '';
  const compact = text.replace(/\s/g, '');
  if (!compact) return undefined;
  const { rows } = await db.query<{ id: string }>(
    `select m.id from platform.tenants m join platform.tenants p on p.id = m.parent_id
      where m.kind = 'municipality' and position(p.name || m.name in $1) = 1
      order by length(m.name) desc limit 1`,
    [compact],
  );
  return rows[0]?.id;
}

const VERIFIED = ['name', 'address', 'birthdate', 'gender'];

/** Finds, links or makes the account the upstream login names; keeps verified claims. */
export async function upstreamAccount(
  db: Db,
  provider: UpstreamProvider,
  result: UpstreamResult,
  sessionAccountId: string | undefined,
): Promise<UpstreamAccount> {
  const linked = await db.query<{ account_id: string }>(
    `update identity.upstream_links set last_used_at = now() where provider = $1 and subject = $2 returning account_id`,
    [provider.id, result.subject],
  );
  let accountId = linked.rows[0]?.account_id;
  let created = false;
  const link = !accountId;
  if (!accountId && sessionAccountId) {
    accountId = sessionAccountId;
  } else if (!accountId && provider.createAccounts) {
    const home = await municipalityOf(db, result.claims.address);
    if (!home) return { outcome: 'no-municipality' };
    const { rows } = await db.query<{ id: string }>(
      `insert into identity.accounts (kind, email, display_name, home_tenant_id) values ('resident', null, $1, $2) returning id`,
      [String(result.claims.name ?? ''), home],
    );
    accountId = rows[0]?.id as string;
    created = true;
    await recordAudit(db, {
      kind: 'account-created',
      outcome: 'success',
      accountId,
      detail: { via: provider.id },
    });
  }
  if (!accountId) return { outcome: 'unlinked' };
  if (link) {
    await db.query(
      'insert into identity.upstream_links (provider, subject, account_id) values ($1, $2, $3)',
      [provider.id, result.subject, accountId],
    );
    await recordAudit(db, {
      kind: 'upstream-linked',
      outcome: 'success',
      accountId,
      detail: { provider: provider.id },
    });
  }
  if (provider.verifiedClaims) {
    const verified = Object.fromEntries(
      VERIFIED.filter((k) => result.claims[k] !== undefined).map((k) => [k, result.claims[k]]),
    );
    await db.query(
      `insert into identity.verified_claims (account_id, source, claims) values ($1, $2, $3)
       on conflict (account_id, source) do update set claims = excluded.claims, verified_at = now()`,
      [accountId, provider.id, JSON.stringify(verified)],
    );
    if (typeof verified.name === 'string' && verified.name) {
      await db.query('update identity.accounts set display_name = $2 where id = $1', [
        accountId,
        verified.name,
      ]);
    }
  }
  return { outcome: 'success', accountId, linked: link, created };
}
