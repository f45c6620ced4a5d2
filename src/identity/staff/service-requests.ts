/**
 * The staff API for what the municipality's services ask of residents (consent capability):
 * `GET|PUT …/clients/{clientId}/request` (the current service request; a PUT declares a new version
 * when anything changed) and `GET|POST …/purposes` (the municipality's catalogue of purposes). The
 * same role as registering services (`clients.manage`); a service of another municipality is not
 * found here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  currentServiceRequest,
  declareServiceRequest,
  definePurpose,
  LEGAL_BASES,
  listPurposes,
  type NewServiceRequest,
  type Purpose,
} from '../../consent/index.ts';
import { NotFound } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';
import { listClients } from '../oidc/clients.ts';
import { STAFF_API_PATH } from '../oidc/resources.ts';
import { requireStaff } from './access.ts';
import { staffCaller } from './caller.ts';
import type { StaffRoutesOptions } from './routes.ts';

const tenant = { type: 'string', pattern: '^\\d{6}$', description: '全国地方公共団体コード' } as const;
const SLUG = '^[a-z][a-z0-9-]{0,62}$';

const tenantParams = { type: 'object', properties: { tenant }, required: ['tenant'] } as const;

const clientParams = {
  type: 'object',
  properties: { tenant, clientId: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['tenant', 'clientId'],
} as const;

const requestItem = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'purpose', 'retention', 'thirdParty', 'legalBasis'],
  properties: {
    category: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 63 },
    purpose: { type: 'string', pattern: SLUG },
    retention: {
      description: 'ISO 8601 duration (P30D, P1Y) or a number of days',
      // The number first: Fastify coerces types, and a number would pass as a string.
      anyOf: [
        { type: 'integer', minimum: 1, maximum: 36500 },
        { type: 'string', minLength: 2, maxLength: 40 },
      ],
    },
    thirdParty: { type: 'boolean', description: '第三者提供' },
    actions: {
      type: 'array',
      items: { type: 'string', enum: ['read', 'write'] },
      minItems: 1,
      uniqueItems: true,
    },
    legalBasis: { type: 'string', enum: [...LEGAL_BASES] },
  },
} as const;

const requestBody = {
  type: 'object',
  additionalProperties: false,
  required: ['controller', 'controllerKind', 'items'],
  properties: {
    controller: { type: 'string', minLength: 1, maxLength: 200, description: "the operator's name" },
    controllerKind: { type: 'string', enum: ['municipality', 'private'] },
    items: { type: 'array', items: requestItem, minItems: 1, maxItems: 100 },
  },
} as const;

const purposeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'nameJa', 'nameEn', 'descriptionJa', 'descriptionEn'],
  properties: {
    id: { type: 'string', pattern: SLUG },
    nameJa: { type: 'string', minLength: 1, maxLength: 100 },
    nameEn: { type: 'string', minLength: 1, maxLength: 100 },
    descriptionJa: { type: 'string', minLength: 1, maxLength: 1000 },
    descriptionEn: { type: 'string', minLength: 1, maxLength: 1000 },
    dpv: { type: 'string', maxLength: 200, description: 'a W3C DPV purpose: dpv:Name' },
  },
} as const;

type Params = { tenant: string; clientId?: string };

export async function serviceRequestRoutes(app: FastifyInstance, options: StaffRoutesOptions): Promise<void> {
  const { db } = options;
  /** The staff member, allowed to manage the tenant's services. */
  const authorised = async (request: FastifyRequest<{ Params: Params }>) => {
    const staff = await staffCaller(options.provider(), options.publicUrl, request, request.params.tenant);
    await requireStaff(db, staff, 'clients.manage');
    return staff;
  };
  /** The client, if the tenant registered it (another tenant's client is not found, like none). */
  const requireClient = async (tenantCode: string, clientId: string) => {
    const client = (await listClients(db, tenantCode)).find((c) => c.clientId === clientId);
    if (!client) throw new NotFound(`no service ${clientId} in ${tenantCode}`);
    return client;
  };

  app.get<{ Params: { tenant: string; clientId: string } }>(
    `${STAFF_API_PATH}/:tenant/clients/:clientId/request`,
    { schema: { params: clientParams } },
    async (request) => {
      const staff = await authorised(request);
      await requireClient(staff.tenantCode, request.params.clientId);
      const current = await db.withTenant(staff.tenantCode, (tx) =>
        currentServiceRequest(tx, staff.tenantCode, request.params.clientId),
      );
      if (!current) throw new NotFound(`${request.params.clientId} has declared no service request`);
      return current;
    },
  );

  app.put<{ Params: { tenant: string; clientId: string }; Body: Omit<NewServiceRequest, 'clientId'> }>(
    `${STAFF_API_PATH}/:tenant/clients/:clientId/request`,
    { schema: { params: clientParams, body: requestBody } },
    async (request) => {
      const staff = await authorised(request);
      const { clientId } = request.params;
      await requireClient(staff.tenantCode, clientId);
      const declared = await db.withTenant(staff.tenantCode, (tx) =>
        declareServiceRequest(tx, staff.tenantCode, { ...request.body, clientId }),
      );
      if (declared.changed) {
        await recordAudit(db, {
          kind: 'service-request-declared',
          outcome: 'success',
          accountId: staff.accountId,
          clientId,
          tenantId: staff.tenantCode,
          ip: request.ip,
          detail: { version: declared.version, items: declared.items.length },
        });
      }
      return declared;
    },
  );

  app.get<{ Params: { tenant: string } }>(
    `${STAFF_API_PATH}/:tenant/purposes`,
    { schema: { params: tenantParams } },
    async (request) => {
      const staff = await authorised(request);
      return { purposes: await db.withTenant(staff.tenantCode, (tx) => listPurposes(tx, staff.tenantCode)) };
    },
  );

  app.post<{ Params: { tenant: string }; Body: Purpose }>(
    `${STAFF_API_PATH}/:tenant/purposes`,
    { schema: { params: tenantParams, body: purposeBody } },
    async (request, reply) => {
      const staff = await authorised(request);
      const created = await db.withTenant(staff.tenantCode, async (tx) => {
        const known = (await listPurposes(tx, staff.tenantCode)).some((p) => p.id === request.body.id);
        await definePurpose(tx, staff.tenantCode, request.body);
        return !known;
      });
      await recordAudit(db, {
        kind: 'purpose-defined',
        outcome: 'success',
        accountId: staff.accountId,
        tenantId: staff.tenantCode,
        ip: request.ip,
        detail: { purpose: request.body.id, created },
      });
      // A purpose already in the catalogue is reworded: residents read the new words from now on.
      reply.code(created ? 201 : 200);
      return request.body;
    },
  );
}
