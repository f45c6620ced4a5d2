/**
 * Who is calling a tenant's staff API: the bearer token must be one our provider issued to the
 * staff console for this very tenant's staff API (its audience), still valid, with its grant still
 * standing. What the caller may then do is decided by `requireStaff` alone.
 */
import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { Forbidden } from '../../platform/index.ts';
import { bearerValue, findBearer, invalidToken } from '../oidc/bearer.ts';
import { CONSOLE_CLIENT_ID, STAFF_SCOPE, staffResource } from '../oidc/resources.ts';

export interface StaffCaller {
  accountId: string;
  tenantCode: string;
}

const REALM = 'machi-staff';

/**
 * The staff member behind the request, for the tenant in the path.
 * @throws Unauthorized without a usable token, Forbidden for a token of another tenant or client
 */
export async function staffCaller(
  provider: Provider,
  publicUrl: string,
  request: FastifyRequest,
  tenantCode: string,
): Promise<StaffCaller> {
  const value = bearerValue(request);
  if (!value) throw invalidToken(REALM, 'sign in to the staff console: this API needs a bearer token');
  const bearer = await findBearer(provider, value);
  if (!bearer?.accountId) {
    throw invalidToken(REALM, 'the token is unknown, expired or revoked; sign in again', 'invalid_token');
  }
  if (bearer.clientId !== CONSOLE_CLIENT_ID || !bearer.scopes.has(STAFF_SCOPE)) {
    throw new Forbidden('this token was not issued for the staff console');
  }
  if (bearer.audience !== staffResource(publicUrl, tenantCode)) {
    throw new Forbidden(`this token was issued for another municipality than ${tenantCode}; sign in for it`);
  }
  return { accountId: bearer.accountId, tenantCode };
}
