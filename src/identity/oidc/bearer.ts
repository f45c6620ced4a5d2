/**
 * Bearer tokens presented to Machi's own APIs, checked against the provider that issued them: an
 * access token (a service acting for a resident, or the staff console) or a client-credentials
 * token (a service acting as itself). A token counts only while it is unexpired, its client is
 * registered and enabled, and — when it acts for a resident — the resident's grant still stands.
 */
import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { Unauthorized } from '../../platform/index.ts';

export interface Bearer {
  clientId: string;
  /** The service's name as registered (for residents' access logs). */
  clientName: string;
  /** The resident or staff member the token acts for; undefined for a service acting as itself. */
  accountId: string | undefined;
  /** The tenant owning the client (undefined for Machi's own clients, such as the console). */
  clientTenant: string | undefined;
  /** The resource indicator the token was issued for. */
  audience: string | undefined;
  scopes: ReadonlySet<string>;
}

const BEARER = /^Bearer ([\w.~+/-]+=*)$/i;

/**
 * The refusal of a token that ended with the resident's consent: 401 like any token no longer
 * valid, naming (to Machi, not to the caller) whose and which service's it was, so that the
 * attempt goes into the resident's access log.
 */
export class WithdrawnToken extends Unauthorized {
  readonly accountId: string;
  readonly clientId: string;

  constructor(challenge: string, accountId: string, clientId: string) {
    super('the token is unknown, expired or revoked', challenge);
    this.accountId = accountId;
    this.clientId = clientId;
  }
}

/** RFC 6750's answer to a missing or bad token: the problem, and how to authenticate. */
export function invalidToken(realm: string, detail: string, error?: 'invalid_token'): Unauthorized {
  return new Unauthorized(detail, `Bearer realm="${realm}"${error ? `, error="${error}"` : ''}`);
}

/** The token value of an `Authorization: Bearer` header; undefined without one. */
export function bearerValue(request: FastifyRequest): string | undefined {
  return BEARER.exec(request.headers.authorization ?? '')?.[1];
}

type Token = {
  clientId?: string;
  accountId?: string;
  grantId?: string;
  aud?: string | string[];
  scope?: string;
  isExpired: boolean;
};

/** The token's facts, or undefined when the provider does not stand behind it (any more). */
export async function findBearer(provider: Provider, value: string): Promise<Bearer | undefined> {
  const token: Token | undefined =
    (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
  if (!token || token.isExpired || !token.clientId) return undefined;
  if (token.accountId) {
    const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
    if (!grant || grant.accountId !== token.accountId || grant.clientId !== token.clientId) return undefined;
  }
  const client = await provider.Client.find(token.clientId);
  if (!client) return undefined;
  const tenant = (client.metadata() as { machi_tenant?: unknown }).machi_tenant;
  return {
    clientId: token.clientId,
    clientName: client.clientName ?? token.clientId,
    accountId: token.accountId,
    clientTenant: typeof tenant === 'string' ? tenant : undefined,
    audience: Array.isArray(token.aud) ? token.aud[0] : token.aud,
    scopes: new Set(
      String(token.scope ?? '')
        .split(' ')
        .filter(Boolean),
    ),
  };
}

/**
 * The bearer of a request to an API that is the resource `audience`: undefined without a token,
 * and a refusal for a token this provider does not stand behind or that was issued for another API.
 * @throws Unauthorized
 */
export async function bearerFor(
  provider: Provider,
  request: FastifyRequest,
  audience: string,
  realm: string,
  withdrawnLookup?: (value: string) => Promise<{ accountId: string; clientId: string } | undefined>,
): Promise<Bearer | undefined> {
  if (request.headers.authorization === undefined) return undefined;
  const value = bearerValue(request);
  if (!value) throw invalidToken(realm, 'the Authorization header must be "Bearer <token>"');
  const bearer = await findBearer(provider, value);
  if (!bearer) {
    const withdrawn = withdrawnLookup ? await withdrawnLookup(value) : undefined;
    if (withdrawn) {
      throw new WithdrawnToken(
        `Bearer realm="${realm}", error="invalid_token"`,
        withdrawn.accountId,
        withdrawn.clientId,
      );
    }
    throw invalidToken(realm, 'the token is unknown, expired or revoked', 'invalid_token');
  }
  if (bearer.audience !== audience) {
    throw invalidToken(
      realm,
      `the token was not issued for this API; ask for one with resource=${audience}`,
      'invalid_token',
    );
  }
  return bearer;
}
