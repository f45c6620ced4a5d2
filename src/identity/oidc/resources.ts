/**
 * Machi's own APIs as resource servers (RFC 8707 resource indicators), and the staff console as a
 * client of our own provider. A token names the one API it is for, as its audience:
 * - the NGSI-LD broker (`{PUBLIC_URL}/ngsi-ld/v1`), for registered services, acting for a resident
 *   (authorization code) or as themselves (client credentials, which default to it);
 * - one tenant's staff API (`{PUBLIC_URL}/api/v1/staff/tenants/{code}`), for the console only: a
 *   session opened for one municipality cannot act in another, even for a person on both staffs;
 * - the resident's own API (`{PUBLIC_URL}/api/v1/me`, My Page), for the portal only.
 */
import { type ClientMetadata, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { type Db, findTenant } from '../../platform/index.ts';
import { staffRoles } from '../staff/access.ts';

export const CONSOLE_CLIENT_ID = 'machi-console';
export const CONSOLE_PATH = '/console/';
export const PORTAL_CLIENT_ID = 'machi-portal';
export const PORTAL_PATH = '/';
export const ME_API_PATH = '/api/v1/me';
export const ME_SCOPE = 'me';
export const STAFF_SCOPE = 'staff';
export const STAFF_API_PATH = '/api/v1/staff/tenants';
export const BROKER_PATH = '/ngsi-ld/v1';
export const BROKER_SCOPE = 'ngsi-ld';
/** Like the provider's other access tokens: a service asks again, with its refresh token or secret. */
const BROKER_TOKEN_SECONDS = 10 * 60;
/** Staff tokens live briefly: the console asks again (without a password while the session lasts). */
const STAFF_TOKEN_SECONDS = 15 * 60;
const TENANT_CODE = /^\d{6}$/;

/** The console: a public client (PKCE, no secret) on this deployment's own origin. */
export function consoleClient(publicUrl: string): ClientMetadata {
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'マチ 職員コンソール',
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${publicUrl}${CONSOLE_PATH}`],
    post_logout_redirect_uris: [`${publicUrl}${CONSOLE_PATH}`],
    scope: 'openid profile',
  };
}

/** The resident portal: a public client (PKCE, no secret) on this deployment's own origin. */
export function portalClient(publicUrl: string): ClientMetadata {
  return {
    client_id: PORTAL_CLIENT_ID,
    client_name: 'マチ 住民ポータル',
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [`${publicUrl}${PORTAL_PATH}`],
    post_logout_redirect_uris: [`${publicUrl}${PORTAL_PATH}`],
    scope: 'openid profile',
  };
}

/** Machi's own clients, which residents and staff are not asked to consent to. */
export const FIRST_PARTY_CLIENTS: ReadonlySet<string> = new Set([CONSOLE_CLIENT_ID, PORTAL_CLIENT_ID]);

/** The resource indicator of the resident's own API. */
export function meResource(publicUrl: string): string {
  return `${publicUrl}${ME_API_PATH}`;
}

/** The resource indicator of the NGSI-LD broker. */
export function brokerResource(publicUrl: string): string {
  return `${publicUrl}${BROKER_PATH}`;
}

/** The resource indicator of a tenant's staff API. */
export function staffResource(publicUrl: string, tenantCode: string): string {
  return `${publicUrl}${STAFF_API_PATH}/${tenantCode}`;
}

/** The tenant a staff resource indicator names, or undefined when it names none. */
export function tenantOfResource(publicUrl: string, resource: unknown): string | undefined {
  if (typeof resource !== 'string') return undefined;
  const prefix = `${publicUrl}${STAFF_API_PATH}/`;
  if (!resource.startsWith(prefix)) return undefined;
  const code = resource.slice(prefix.length);
  return TENANT_CODE.test(code) ? code : undefined;
}

async function tenantExists(db: Db, code: string): Promise<boolean> {
  return (await findTenant(db, code)) !== undefined;
}

/**
 * oidc-provider's `getResourceServerInfo`: the broker for every registered service, a staff API
 * only for the console and only for a tenant that exists, the resident's API only for the portal;
 * any other indicator is `invalid_target`.
 */
export function resourceServers(db: Db, publicUrl: string) {
  return async (_ctx: KoaContextWithOIDC, indicator: string, client: { clientId: string }) => {
    const console_ = client.clientId === CONSOLE_CLIENT_ID;
    const portal = client.clientId === PORTAL_CLIENT_ID;
    if (indicator === meResource(publicUrl) && portal) {
      return {
        scope: ME_SCOPE,
        audience: indicator,
        accessTokenFormat: 'opaque' as const,
        accessTokenTTL: STAFF_TOKEN_SECONDS,
      };
    }
    if (indicator === brokerResource(publicUrl) && !console_ && !portal) {
      return {
        scope: BROKER_SCOPE,
        audience: indicator,
        accessTokenFormat: 'opaque' as const,
        accessTokenTTL: BROKER_TOKEN_SECONDS,
      };
    }
    const tenant = tenantOfResource(publicUrl, indicator);
    if (!console_ || !tenant || !(await tenantExists(db, tenant))) {
      throw new errors.InvalidTarget('this resource indicator is not served to this client');
    }
    return {
      scope: STAFF_SCOPE,
      audience: indicator,
      accessTokenFormat: 'opaque' as const,
      accessTokenTTL: STAFF_TOKEN_SECONDS,
    };
  };
}

/**
 * oidc-provider's `defaultResource`: a client-credentials request without a resource is for the
 * broker (the one API services call as themselves); other requests default to none (userinfo).
 */
export function defaultResource(publicUrl: string) {
  return async (ctx: KoaContextWithOIDC, _client: unknown, oneOf?: readonly string[]) => {
    if (oneOf) return oneOf;
    return ctx.oidc.params?.grant_type === 'client_credentials' ? brokerResource(publicUrl) : undefined;
  };
}

/** The tenant a console authorization request is for (the `resource` it names). */
export function requestedStaffTenant(publicUrl: string, params: Record<string, unknown>): string | undefined {
  if (params.client_id !== CONSOLE_CLIENT_ID) return undefined;
  const resources = Array.isArray(params.resource) ? params.resource : [params.resource];
  return resources.map((r) => tenantOfResource(publicUrl, r)).find((t) => t !== undefined);
}

/**
 * Whether the account may open a console session for the request: it must hold a staff role in
 * the tenant named by the request. True for every request that is not the console's.
 */
export async function mayOpenConsole(
  db: Db,
  publicUrl: string,
  params: Record<string, unknown>,
  accountId: string,
): Promise<boolean> {
  if (params.client_id !== CONSOLE_CLIENT_ID) return true;
  const tenant = requestedStaffTenant(publicUrl, params);
  return tenant !== undefined && (await staffRoles(db, tenant, accountId)).length > 0;
}
