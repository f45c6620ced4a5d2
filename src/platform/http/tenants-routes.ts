/**
 * The public registry of tenants: which prefecture and municipalities this Machi serves.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db.ts';
import { listTenants, requireTenant, type Tenant } from '../tenancy.ts';

const tenantSchema = {
  type: 'object',
  properties: {
    code: { type: 'string', description: '全国地方公共団体コード (6 digits with check digit)' },
    kind: { type: 'string', enum: ['prefecture', 'municipality'] },
    name: { type: 'string' },
    nameEn: { type: 'string' },
    parentCode: { type: ['string', 'null'] },
    aliases: { type: 'array', items: { type: 'string' }, description: 'other names, e.g. sendai' },
  },
  required: ['code', 'kind', 'name', 'nameEn', 'parentCode', 'aliases'],
} as const;

export function registerTenantRoutes(app: FastifyInstance, db: Db): void {
  app.get(
    '/api/v1/tenants',
    {
      schema: {
        response: {
          200: { type: 'object', properties: { tenants: { type: 'array', items: tenantSchema } } },
        },
      },
    },
    async (): Promise<{ tenants: Tenant[] }> => ({ tenants: await listTenants(db) }),
  );

  app.get<{ Params: { code: string } }>(
    '/api/v1/tenants/:code',
    {
      schema: {
        // A code or an alias; the answer always carries the code.
        params: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
        response: { 200: tenantSchema },
      },
    },
    async (request): Promise<Tenant> => requireTenant(db, request.params.code),
  );
}
