/**
 * The staff API of identity, per tenant (`/api/v1/staff/tenants/{code}/…`): who I am there, and
 * the services (OIDC clients) the tenant registered for its residents. Each handler names the
 * caller from the token, asks `requireStaff`, then does one thing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { type Db, Forbidden, requireTenant, type SecretBox } from '../../platform/index.ts';
import { findAccountById } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { CLIENT_SCOPES, listClients, type NewClient, registerClient } from '../oidc/clients.ts';
import { STAFF_API_PATH } from '../oidc/resources.ts';
import { allows, requireStaff, STAFF_PERMISSIONS, type StaffAction, staffRoles } from './access.ts';
import { type StaffCaller, staffCaller } from './caller.ts';

export interface StaffRoutesOptions {
  db: Db;
  box: SecretBox;
  publicUrl: string;
  production: boolean;
  provider: () => Provider;
}

type TenantRequest = FastifyRequest<{ Params: { tenant: string } }>;

const params = {
  type: 'object',
  properties: { tenant: { type: 'string', pattern: '^\\d{6}$', description: '全国地方公共団体コード' } },
  required: ['tenant'],
} as const;

const uris = { type: 'array', items: { type: 'string', maxLength: 2048 }, maxItems: 20 } as const;

const newClientBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    redirectUris: uris,
    postLogoutRedirectUris: uris,
    backchannelLogoutUri: { type: 'string', maxLength: 2048 },
    scopes: { type: 'array', items: { type: 'string', enum: CLIENT_SCOPES }, uniqueItems: true },
    public: { type: 'boolean' },
    serviceAccess: { type: 'boolean' },
  },
} as const;

const clientSummary = {
  type: 'object',
  properties: {
    clientId: { type: 'string' },
    name: { type: 'string' },
    redirectUris: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
    disabled: { type: 'boolean' },
  },
} as const;

export async function staffRoutes(app: FastifyInstance, options: StaffRoutesOptions): Promise<void> {
  const { db, box } = options;
  const caller = (request: TenantRequest) =>
    staffCaller(options.provider(), options.publicUrl, request, request.params.tenant);
  const authorised = async (request: TenantRequest, action: StaffAction) => {
    const staff = await caller(request);
    await requireStaff(db, staff, action);
    return staff;
  };

  app.get(`${STAFF_API_PATH}/:tenant/me`, { schema: { params } }, async (request: TenantRequest) => {
    const staff: StaffCaller = await caller(request);
    const [account, tenant, roles] = await Promise.all([
      findAccountById(db, staff.accountId),
      requireTenant(db, staff.tenantCode),
      staffRoles(db, staff.tenantCode, staff.accountId),
    ]);
    if (roles.length === 0) throw new Forbidden(`this account is not on the staff of ${staff.tenantCode}`);
    const actions = (Object.keys(STAFF_PERMISSIONS) as StaffAction[]).filter((a) => allows(roles, a));
    return {
      displayName: account?.displayName ?? '',
      email: account?.email ?? null,
      tenant: { code: tenant.code, name: tenant.name, nameEn: tenant.nameEn },
      roles,
      actions,
    };
  });

  app.get(
    `${STAFF_API_PATH}/:tenant/clients`,
    {
      schema: {
        params,
        response: {
          200: { type: 'object', properties: { clients: { type: 'array', items: clientSummary } } },
        },
      },
    },
    async (request: TenantRequest) => {
      const staff = await authorised(request, 'clients.manage');
      return { clients: await listClients(db, staff.tenantCode) };
    },
  );

  app.post<{ Params: { tenant: string }; Body: Omit<NewClient, 'tenantCode'> }>(
    `${STAFF_API_PATH}/:tenant/clients`,
    { schema: { params, body: newClientBody } },
    async (request, reply) => {
      const staff = await authorised(request, 'clients.manage');
      const input: NewClient = {
        ...request.body,
        redirectUris: request.body.redirectUris ?? [],
        tenantCode: staff.tenantCode,
      };
      const registered = await registerClient(db, box, input, { production: options.production });
      await recordAudit(db, {
        kind: 'client-registered',
        outcome: 'success',
        accountId: staff.accountId,
        clientId: registered.clientId,
        tenantId: staff.tenantCode,
        ip: request.ip,
        detail: {
          name: input.name,
          public: input.public === true,
          serviceAccess: input.serviceAccess === true,
        },
      });
      reply.code(201);
      // The secret is in this answer and nowhere else, ever: the console shows it once.
      return { clientId: registered.clientId, clientSecret: registered.clientSecret ?? null };
    },
  );
}
