/**
 * Relying parties (OIDC clients): services a tenant's staff register for their residents, with
 * their redirect URIs, the scopes they may ask for, and a back-channel logout endpoint. Every client
 * gets pairwise subjects (provider.ts), so two services never share a resident's `sub`. A
 * confidential client's secret is shown once and stored sealed (the provider must compare it).
 */
import { randomBytes } from 'node:crypto';
import { BadRequest, type Db, NotFound, type SecretBox } from '../../platform/index.ts';

const SECRET_PURPOSE = 'identity.client-secret';

/** Scopes a client may be allowed; `openid` always. */
export const CLIENT_SCOPES = [
  'openid',
  'profile',
  'email',
  'address',
  'phone',
  'offline_access',
  'municipality',
];

export interface NewClient {
  tenantCode: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  scopes?: string[];
  /** A public client (an app on a phone, a single-page app) has no secret and must use PKCE. */
  public?: boolean;
  /** Lets the service call Machi's APIs as itself (client credentials). */
  serviceAccess?: boolean;
}

export interface RegisteredClient {
  clientId: string;
  /** Shown once; undefined for a public client. */
  clientSecret: string | undefined;
}

function checkUri(uri: string, what: string, production: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new BadRequest(`${what} ${JSON.stringify(uri)} is not a URL`);
  }
  if (parsed.hash) {
    throw new BadRequest(`${what} ${uri} must not have a fragment`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && (loopback || !production))) {
    throw new BadRequest(`${what} ${uri} must use https`);
  }
  return parsed.href;
}

/** The metadata oidc-provider validates and serves, without the secret. */
function metadataOf(input: NewClient, clientId: string, production: boolean): Record<string, unknown> {
  const scopes = input.scopes ?? ['openid', 'profile', 'email'];
  const unknown = scopes.filter((s) => !CLIENT_SCOPES.includes(s));
  if (unknown.length > 0) {
    throw new BadRequest(`unknown scopes ${unknown.join(', ')}; known: ${CLIENT_SCOPES.join(', ')}`);
  }
  if (input.redirectUris.length === 0 && !input.serviceAccess) {
    throw new BadRequest('a client needs at least one redirect URI');
  }
  const grantTypes = input.redirectUris.length > 0 ? ['authorization_code', 'refresh_token'] : [];
  if (input.serviceAccess) {
    if (input.public) throw new BadRequest('a public client cannot call the APIs as itself');
    grantTypes.push('client_credentials');
  }
  return {
    client_id: clientId,
    client_name: input.name,
    redirect_uris: input.redirectUris.map((u) => checkUri(u, 'redirect URI', production)),
    post_logout_redirect_uris: (input.postLogoutRedirectUris ?? []).map((u) =>
      checkUri(u, 'post-logout redirect URI', production),
    ),
    ...(input.backchannelLogoutUri
      ? {
          backchannel_logout_uri: checkUri(input.backchannelLogoutUri, 'back-channel logout URI', production),
          backchannel_logout_session_required: true,
        }
      : {}),
    grant_types: grantTypes,
    response_types: input.redirectUris.length > 0 ? ['code'] : [],
    scope: [...new Set(['openid', ...scopes])].join(' '),
    subject_type: 'pairwise',
    token_endpoint_auth_method: input.public ? 'none' : 'client_secret_basic',
    application_type: 'web',
  };
}

/** Registers a client for the tenant; the secret is returned here and never again. */
export async function registerClient(
  db: Db,
  box: SecretBox,
  input: NewClient,
  options: { production: boolean } = { production: false },
): Promise<RegisteredClient> {
  if (!input.name.trim()) throw new BadRequest('a client needs a name');
  const clientId = `machi-${randomBytes(12).toString('base64url')}`;
  const metadata = metadataOf(input, clientId, options.production);
  const secret = input.public ? undefined : randomBytes(32).toString('base64url');
  const { rowCount } = await db.query(
    `insert into identity.clients (id, tenant_id, name, metadata, secret_sealed)
     select $1, id, $3, $4, $5 from platform.tenants where id = $2`,
    [
      clientId,
      input.tenantCode,
      input.name,
      JSON.stringify(metadata),
      secret ? box.seal(secret, SECRET_PURPOSE) : null,
    ],
  );
  if (rowCount === 0) throw new NotFound(`no tenant ${input.tenantCode}`);
  return { clientId, clientSecret: secret };
}

/** The client as the provider needs it (with its secret), or undefined when unknown or disabled. */
export async function findClientMetadata(
  db: Db,
  box: SecretBox,
  clientId: string,
): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{
    metadata: Record<string, unknown>;
    secret_sealed: string | null;
    tenant_id: string;
  }>(
    'select metadata, secret_sealed, tenant_id from identity.clients where id = $1 and disabled_at is null',
    [clientId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    ...row.metadata,
    machi_tenant: row.tenant_id,
    ...(row.secret_sealed ? { client_secret: box.openText(row.secret_sealed, SECRET_PURPOSE) } : {}),
  };
}

export interface ClientSummary {
  clientId: string;
  tenantCode: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  disabled: boolean;
}

/** The clients of one tenant, for its staff. */
export async function listClients(db: Db, tenantCode: string): Promise<ClientSummary[]> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    name: string;
    metadata: { redirect_uris: string[]; scope: string };
    disabled_at: Date | null;
  }>(
    'select id, tenant_id, name, metadata, disabled_at from identity.clients where tenant_id = $1 order by created_at',
    [tenantCode],
  );
  return rows.map((r) => ({
    clientId: r.id,
    tenantCode: r.tenant_id,
    name: r.name,
    redirectUris: r.metadata.redirect_uris,
    scopes: r.metadata.scope.split(' '),
    disabled: r.disabled_at !== null,
  }));
}
