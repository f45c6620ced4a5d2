/**
 * Staff's garbage schedule screens (`/api/v1/staff/tenants/{code}/garbage…`): import 5374 files,
 * see the schedule in force, preview an area's days, and enter day changes (holidays, storms).
 * Every route asks identity for the staff member and `calendar.manage` first.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../../identity/index.ts';
import {
  type Db,
  Forbidden,
  findTenant,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
  ValidationFailed,
} from '../../platform/index.ts';
import { importGarbageSchedule } from './commands.ts';
import { garbageDays, periodOf } from './days.ts';
import { isIsoDate } from './garbage-5374.ts';
import { GARBAGE_FILES, type GarbageFile } from './garbage-import.ts';
import { currentSchedule, deleteException, insertException, listExceptions } from './store.ts';
import type { CalendarIdentity } from './types.ts';

const STAFF_PATH = '/api/v1/staff/tenants/:tenant/garbage';
/** A 5374 file of a whole city is some tens of kilobytes; five megabytes leaves room for any. */
const FILE_LIMIT = 5 * 1024 * 1024;

const tenantParams = {
  type: 'object',
  required: ['tenant'],
  properties: { tenant: { type: 'string', pattern: '^[0-9]{6}$' } },
} as const;
const periodQuery = {
  type: 'object',
  properties: { from: { type: 'string' }, to: { type: 'string' } },
} as const;
const isoDate = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

type TenantRequest = FastifyRequest<{ Params: { tenant: string } }>;

/** The uploaded files by their 5374 name (the file's own name, or the form field's). */
async function uploadedFiles(request: FastifyRequest): Promise<Partial<Record<GarbageFile, Uint8Array>>> {
  if (!request.isMultipart()) {
    throw new UnsupportedMediaType('send the 5374 files as multipart/form-data, one part per file');
  }
  const files: Partial<Record<GarbageFile, Uint8Array>> = {};
  const unknown: string[] = [];
  for await (const part of request.parts({ limits: { fileSize: FILE_LIMIT, files: 8 } })) {
    if (part.type !== 'file') continue;
    const name = [part.filename, part.fieldname]
      .map((n) => (n ?? '').toLowerCase().split(/[\\/]/).pop() ?? '')
      .find((n): n is GarbageFile => (GARBAGE_FILES as readonly string[]).includes(n));
    const bytes = await part.toBuffer().catch((error: { code?: string }) => {
      if (error.code === 'FST_REQ_FILE_TOO_LARGE') throw new PayloadTooLarge(FILE_LIMIT);
      throw error;
    });
    if (name) files[name] = bytes;
    else unknown.push(part.filename || part.fieldname);
  }
  if (unknown.length > 0) {
    throw new ValidationFailed(
      `only ${GARBAGE_FILES.join(', ')} are read`,
      unknown.map((n) => ({ name: n, reason: `is not one of ${GARBAGE_FILES.join(', ')}` })),
    );
  }
  return files;
}

export async function calendarStaffRoutes(
  app: FastifyInstance,
  options: { db: Db; identity: CalendarIdentity },
): Promise<void> {
  const { db, identity } = options;
  await app.register(multipart);

  /** The staff member allowed to manage the tenant's calendar, and the tenant. */
  const manager = async (request: TenantRequest) => {
    const tenant = await findTenant(db, request.params.tenant);
    if (!tenant) throw new NotFound(`no municipality ${request.params.tenant}`);
    const staff = await identity.staff(request, tenant.code);
    if (!allows(staff.roles, 'calendar.manage')) {
      throw new Forbidden(`this staff account may not do calendar.manage in tenant ${tenant.code}`);
    }
    return { staff, tenant: tenant.code };
  };

  app.post(
    `${STAFF_PATH}/imports`,
    { schema: { params: tenantParams } },
    async (request: TenantRequest, reply) => {
      const { staff, tenant } = await manager(request);
      const files = await uploadedFiles(request);
      const saved = await importGarbageSchedule(db, tenant, staff.accountId, files);
      return reply.code(201).send({
        id: saved.id,
        importedAt: saved.importedAt.toISOString(),
        files: saved.files,
        areas: saved.schedule.areas.length,
        categories: saved.schedule.categories.map((c) => c.name),
      });
    },
  );

  app.get(STAFF_PATH, { schema: { params: tenantParams } }, async (request: TenantRequest, reply) => {
    const { tenant } = await manager(request);
    const stored = await db.withTenant(tenant, (tx) => currentSchedule(tx));
    reply.header('cache-control', 'no-store');
    if (!stored) throw new NotFound('no garbage schedule has been imported yet');
    return {
      id: stored.id,
      importedAt: stored.importedAt.toISOString(),
      files: stored.files,
      categories: stored.schedule.categories,
      areas: stored.schedule.areas.map((a) => ({ name: a.area, centre: a.center ?? null })),
      pauses: stored.schedule.pauses,
      remarks: stored.schedule.remarks,
    };
  });

  app.get(
    `${STAFF_PATH}/areas/:area/days`,
    {
      schema: {
        params: {
          ...tenantParams,
          required: ['tenant', 'area'],
          properties: { ...tenantParams.properties, area: { type: 'string' } },
        },
        querystring: periodQuery,
      },
    },
    async (
      request: FastifyRequest<{
        Params: { tenant: string; area: string };
        Querystring: { from?: string; to?: string };
      }>,
    ) => {
      const { tenant } = await manager(request);
      const period = periodOf(request.query);
      const { stored, exceptions } = await db.withTenant(tenant, async (tx) => ({
        stored: await currentSchedule(tx),
        exceptions: await listExceptions(tx, period),
      }));
      if (!stored) throw new NotFound('no garbage schedule has been imported yet');
      const days = garbageDays(stored.schedule, exceptions, request.params.area, period);
      if (!days) throw new NotFound(`no area ${request.params.area} in the schedule in force`);
      return { area: request.params.area, ...period, days };
    },
  );

  app.get(
    `${STAFF_PATH}/exceptions`,
    { schema: { params: tenantParams } },
    async (request: TenantRequest) => {
      const { tenant } = await manager(request);
      return { exceptions: await db.withTenant(tenant, (tx) => listExceptions(tx)) };
    },
  );

  app.post(
    `${STAFF_PATH}/exceptions`,
    {
      schema: {
        params: tenantParams,
        body: {
          type: 'object',
          required: ['date'],
          additionalProperties: false,
          properties: {
            date: isoDate,
            moveTo: isoDate,
            category: { type: 'string', minLength: 1 },
            area: { type: 'string', minLength: 1 },
            reason: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (
      request: FastifyRequest<{
        Params: { tenant: string };
        Body: { date: string; moveTo?: string; category?: string; area?: string; reason?: string };
      }>,
      reply,
    ) => {
      const { staff, tenant } = await manager(request);
      const body = request.body;
      const id = await db.withTenant(tenant, async (tx) => {
        const stored = await currentSchedule(tx);
        if (!stored) throw new NotFound('import a garbage schedule before entering its day changes');
        const problems = [];
        if (body.area && !stored.schedule.areas.some((a) => a.area === body.area)) {
          problems.push({
            name: 'body/area',
            reason: `${body.area} is not an area of the schedule in force`,
          });
        }
        if (body.category && !stored.schedule.categories.some((c) => c.name === body.category)) {
          problems.push({
            name: 'body/category',
            reason: `${body.category} is not a category of the schedule in force`,
          });
        }
        for (const [name, value] of [
          ['date', body.date],
          ['moveTo', body.moveTo],
        ] as const) {
          if (value && !isIsoDate(value)) {
            problems.push({ name: `body/${name}`, reason: `${value} is not a date` });
          }
        }
        if (body.moveTo === body.date)
          problems.push({ name: 'body/moveTo', reason: 'the new day is the same day' });
        if (problems.length > 0) throw new ValidationFailed('the day change is not valid', problems);
        return insertException(tx, tenant, staff.accountId, { ...body, reason: body.reason ?? '' });
      });
      return reply.code(201).send({ id });
    },
  );

  app.delete(
    `${STAFF_PATH}/exceptions/:id`,
    {
      schema: {
        params: {
          ...tenantParams,
          required: ['tenant', 'id'],
          properties: { ...tenantParams.properties, id: { type: 'string', format: 'uuid' } },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { tenant: string; id: string } }>, reply) => {
      const { tenant } = await manager(request);
      const deleted = await db.withTenant(tenant, (tx) => deleteException(tx, request.params.id));
      if (!deleted) throw new NotFound(`no day change ${request.params.id}`);
      return reply.code(204).send();
    },
  );
}
