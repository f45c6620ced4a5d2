/**
 * What the resident's own API (My Page) needs from the provider: who is calling (a token the portal
 * got for the resident's API), ending one service's access when the resident withdraws, and
 * signatures with the provider's own key, which anyone can check against the published JWKS.
 */
import type { FastifyRequest } from 'fastify';
import { CompactSign, importJWK, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import { type Db, Forbidden } from '../../platform/index.ts';
import { bearerValue, findBearer, invalidToken } from './bearer.ts';
import { ME_SCOPE, meResource, PORTAL_CLIENT_ID } from './resources.ts';
import { type Log, type Logouts, revokeClientAccess, sendLogouts } from './revoke.ts';

const REALM = 'machi-me';

/**
 * The resident behind a request to their own API.
 * @throws Unauthorized without a usable token, Forbidden for a token that is not the portal's for this API
 */
export async function residentCaller(
  provider: Provider,
  publicUrl: string,
  request: FastifyRequest,
): Promise<{ accountId: string }> {
  const value = bearerValue(request);
  if (!value) throw invalidToken(REALM, 'log in to the portal: this API needs a bearer token');
  const bearer = await findBearer(provider, value);
  if (!bearer?.accountId) {
    throw invalidToken(REALM, 'the token is unknown, expired or revoked; log in again', 'invalid_token');
  }
  if (bearer.clientId !== PORTAL_CLIENT_ID || !bearer.scopes.has(ME_SCOPE)) {
    throw new Forbidden('this token was not issued to the resident portal');
  }
  if (bearer.audience !== meResource(publicUrl)) {
    throw invalidToken(
      REALM,
      `the token was not issued for this API; ask for one with resource=${meResource(publicUrl)}`,
    );
  }
  return { accountId: bearer.accountId };
}

/**
 * Ends the services' access to the account (grants, tokens, their place in its sessions), then
 * tells each by back-channel logout. Runs after the withdrawal itself has committed: if this fails,
 * the withdrawal still stands and the policy decision point already refuses every use.
 */
export async function endServiceAccess(
  db: Db,
  provider: Provider,
  accountId: string,
  clientIds: readonly string[],
  log: Log,
): Promise<void> {
  if (clientIds.length === 0) return;
  const logouts: Logouts = await db.transaction(async (tx) => {
    const sessions = [];
    for (const clientId of clientIds) {
      sessions.push(...(await revokeClientAccess(tx, accountId, clientId)).sessions);
    }
    return { accountId, sessions };
  });
  await sendLogouts(provider, logouts, log);
}

/** A compact JWS of `payload` signed with the provider's current key (`kid` in the header). */
export async function signWithProviderKey(
  keys: readonly JWK[],
  payload: object,
  typ: string,
): Promise<string> {
  const jwk = keys[0];
  if (!jwk?.alg || !jwk.kid) throw new Error('the provider has no signing key');
  const key = await importJWK(jwk, jwk.alg);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: jwk.alg, kid: jwk.kid, typ })
    .sign(key);
}
