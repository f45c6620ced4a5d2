/**
 * The staff API of identity, per tenant (`/api/v1/staff/tenants/{code}/…`): who I am there, and
 * the services (OIDC clients) the tenant registered for its residents (what they ask of residents:
 * service-requests.ts). Each handler names the caller from the token, asks `requireStaff`, then
 * does one thing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { type Db, Forbidden, requireTenant, type SecretBox } from '../../platform/index.ts';
import { findAccountById, STAFF_ROLES, type StaffRole } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { CLIENT_SCOPES, listClients, type NewClient, registerClient } from '../oidc/clients.ts';
import { STAFF_API_PATH } from '../oidc/resources.ts';
import { allows, requireStaff, STAFF_PERMISSIONS, type StaffAction, staffRoles } from './access.ts';
import { type StaffCaller, staffCaller } from './caller.ts';
import { addMember, changeMemberRoles, listMembers, type NewMember } from './members.ts';
import { serviceRequestRoutes } from './service-requests.ts';

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

const roleList = {
  type: 'array',
  items: { type: 'string', enum: [...STAFF_ROLES] },
  uniqueItems: true,
  maxItems: STAFF_ROLES.length,
} as const;

const newMemberBody = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'displayName', 'roles'],
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 254 },
    displayName: { type: 'string', minLength: 1, maxLength: 100 },
    roles: { ...roleList, minItems: 1 },
  },
} as const;

const memberParams = {
  type: 'object',
  properties: {
    tenant: params.properties.tenant,
    accountId: { type: 'string', format: 'uuid' },
  },
  required: ['tenant', 'accountId'],
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

  const members = async (request: TenantRequest) => ({
    db,
    box,
    staff: await authorised(request, 'staff.manage'),
    ip: request.ip,
  });

  app.get(`${STAFF_API_PATH}/:tenant/staff`, { schema: { params } }, async (request: TenantRequest) => ({
    staff: await listMembers(await members(request)),
  }));

  app.post<{ Params: { tenant: string }; Body: NewMember }>(
    `${STAFF_API_PATH}/:tenant/staff`,
    { schema: { params, body: newMemberBody } },
    async (request, reply) => {
      const added = await addMember(await members(request), request.body);
      // A new account's password and authenticator key are in this answer and nowhere else.
      reply.code(added.created ? 201 : 200);
      return added;
    },
  );

  app.put<{ Params: { tenant: string; accountId: string }; Body: { roles: StaffRole[] } }>(
    `${STAFF_API_PATH}/:tenant/staff/:accountId/roles`,
    {
      schema: {
        params: memberParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['roles'],
          properties: { roles: roleList },
        },
      },
    },
    async (request) => ({
      roles: await changeMemberRoles(await members(request), request.params.accountId, request.body.roles),
    }),
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

  await serviceRequestRoutes(app, options);
}
