/**
 * The resident's calendar (`/api/v1/me/calendar…`): my garbage days, my area and evening reminder,
 * and my private iCalendar feed; and the public list of a municipality's garbage areas (5374 data is
 * open data). A resident's own choices are theirs to read and change through the portal; the feed
 * URL is a secret that opens only the garbage days, and a new one or a revocation ends the old one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, type Db, findTenant, NotFound, ValidationFailed } from '../../platform/index.ts';
import { garbageDays, periodOf, todayInJapan } from './days.ts';
import { addDays } from './garbage-5374.ts';
import { garbageFeed } from './ical.ts';
import {
  currentSchedule,
  feedOwner,
  hasFeed,
  listExceptions,
  readSettings,
  replaceFeed,
  revokeFeeds,
  writeSettings,
} from './store.ts';
import type { CalendarIdentity } from './types.ts';

const ME = '/api/v1/me/calendar';
export const FEED_PATH = '/calendar/feeds';

const tenantQuery = {
  type: 'object',
  properties: {
    tenant: { type: 'string', pattern: '^[0-9]{6}$' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
} as const;

type MeRequest = FastifyRequest<{ Querystring: { tenant?: string; from?: string; to?: string } }>;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

export async function calendarResidentRoutes(
  app: FastifyInstance,
  options: { db: Db; identity: CalendarIdentity; publicUrl: string },
): Promise<void> {
  const { db, identity, publicUrl } = options;

  /** The resident and the municipality asked about: the one named, else their home municipality. */
  const residentIn = async (request: MeRequest) => {
    const { accountId } = await identity.resident(request);
    let code = request.query.tenant;
    if (!code) {
      const account = await identity.account(accountId);
      code = account?.homeTenantCode ?? undefined;
      if (!code)
        throw new BadRequest('name the municipality (tenant): this account has no home municipality');
    }
    const tenant = await findTenant(db, code);
    if (!tenant) throw new NotFound(`no municipality ${code}`);
    return { accountId, tenant };
  };

  app.get(
    '/api/v1/tenants/:tenant/garbage/areas',
    {
      schema: {
        params: {
          type: 'object',
          required: ['tenant'],
          properties: { tenant: { type: 'string', pattern: '^[0-9]{6}$' } },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { tenant: string } }>) => {
      const tenant = await findTenant(db, request.params.tenant);
      if (!tenant) throw new NotFound(`no municipality ${request.params.tenant}`);
      const stored = await db.withTenant(tenant.code, (tx) => currentSchedule(tx));
      if (!stored) throw new NotFound(`${tenant.name} has no garbage schedule yet`);
      return {
        municipality: { code: tenant.code, name: tenant.name, nameEn: tenant.nameEn },
        areas: stored.schedule.areas.map((a) => a.area),
        categories: stored.schedule.categories,
      };
    },
  );

  app.get(ME, { schema: { querystring: tenantQuery } }, async (request: MeRequest, reply) => {
    const { accountId, tenant } = await residentIn(request);
    const period = periodOf(request.query);
    const answer = await db.withTenant(tenant.code, async (tx) => {
      const settings = await readSettings(tx, accountId);
      const stored = settings.garbageArea ? await currentSchedule(tx) : undefined;
      const days =
        stored && settings.garbageArea
          ? garbageDays(stored.schedule, await listExceptions(tx, period), settings.garbageArea, period)
          : undefined;
      return { settings, days };
    });
    noStore(reply);
    return {
      municipality: { code: tenant.code, name: tenant.name, nameEn: tenant.nameEn },
      ...period,
      garbageArea: answer.settings.garbageArea,
      // An area that a new import no longer has shows no days, and says so, rather than stale ones.
      garbageAreaKnown: answer.days !== undefined || answer.settings.garbageArea === null,
      garbageDays: answer.days ?? [],
    };
  });

  app.get(`${ME}/settings`, { schema: { querystring: tenantQuery } }, async (request: MeRequest, reply) => {
    const { accountId, tenant } = await residentIn(request);
    const { settings, feed } = await db.withTenant(tenant.code, async (tx) => ({
      settings: await readSettings(tx, accountId),
      feed: await hasFeed(tx, accountId),
    }));
    noStore(reply);
    return { municipality: tenant.code, ...settings, feed };
  });

  app.put(
    `${ME}/settings`,
    {
      schema: {
        querystring: tenantQuery,
        body: {
          type: 'object',
          required: ['garbageArea', 'eveningReminder'],
          additionalProperties: false,
          properties: {
            garbageArea: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
            eveningReminder: { type: 'boolean' },
          },
        },
      },
    },
    async (
      request: FastifyRequest<{
        Querystring: MeRequest['query'];
        Body: { garbageArea: string | null; eveningReminder: boolean };
      }>,
      reply,
    ) => {
      const { accountId, tenant } = await residentIn(request);
      const { garbageArea, eveningReminder } = request.body;
      await db.withTenant(tenant.code, async (tx) => {
        if (garbageArea !== null) {
          const stored = await currentSchedule(tx);
          if (!stored?.schedule.areas.some((a) => a.area === garbageArea)) {
            throw new ValidationFailed(`${garbageArea} is not a garbage area of ${tenant.name}`, [
              { name: 'body/garbageArea', reason: 'choose one of the areas the municipality lists' },
            ]);
          }
        }
        await writeSettings(tx, tenant.code, accountId, { garbageArea, eveningReminder });
      });
      noStore(reply);
      return { municipality: tenant.code, garbageArea, eveningReminder };
    },
  );

  app.post(`${ME}/feed`, { schema: { querystring: tenantQuery } }, async (request: MeRequest, reply) => {
    const { accountId, tenant } = await residentIn(request);
    const token = randomBytes(32).toString('base64url');
    await db.withTenant(tenant.code, (tx) => replaceFeed(tx, tenant.code, accountId, hashOf(token)));
    const url = `${publicUrl}${FEED_PATH}/${tenant.code}/${token}.ics`;
    noStore(reply);
    return reply.code(201).send({ url, webcalUrl: url.replace(/^https?:/, 'webcal:') });
  });

  app.delete(`${ME}/feed`, { schema: { querystring: tenantQuery } }, async (request: MeRequest, reply) => {
    const { accountId, tenant } = await residentIn(request);
    const revoked = await db.withTenant(tenant.code, (tx) => revokeFeeds(tx, accountId));
    if (revoked === 0) throw new NotFound('there is no calendar feed to stop');
    return reply.code(204).send();
  });

  app.get(
    `${FEED_PATH}/:tenant/:file`,
    {
      schema: {
        params: {
          type: 'object',
          required: ['tenant', 'file'],
          properties: { tenant: { type: 'string', pattern: '^[0-9]{6}$' }, file: { type: 'string' } },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { tenant: string; file: string } }>, reply) => {
      const gone = new NotFound('no such calendar: the address was stopped or replaced');
      const token = /^([A-Za-z0-9_-]{43})\.ics$/.exec(request.params.file)?.[1];
      const tenant = token ? await findTenant(db, request.params.tenant) : undefined;
      if (!token || !tenant) throw gone;
      const feed = await db.withTenant(tenant.code, async (tx) => {
        const owner = await feedOwner(tx, hashOf(token));
        if (!owner) return undefined;
        const settings = await readSettings(tx, owner);
        const from = addDays(todayInJapan(), -31);
        const period = { from, to: addDays(from, 365) };
        const stored = await currentSchedule(tx);
        const days =
          stored && settings.garbageArea
            ? (garbageDays(stored.schedule, await listExceptions(tx, period), settings.garbageArea, period) ??
              [])
            : [];
        return { settings, days };
      });
      if (!feed) throw gone;
      const area = feed.settings.garbageArea ?? '';
      const body = garbageFeed(feed.days, {
        name: `${tenant.name} ${area} のごみ収集日`,
        uidPrefix: `garbage-${tenant.code}-${Buffer.from(area).toString('hex').slice(0, 32)}`,
        host: new URL(publicUrl).hostname,
        eveningReminder: feed.settings.eveningReminder,
        lang: 'ja',
      });
      // Private: never kept by a shared cache, and never sent as a referrer.
      return reply
        .header('cache-control', 'private, max-age=3600')
        .header('referrer-policy', 'no-referrer')
        .type('text/calendar; charset=utf-8')
        .send(body);
    },
  );
}
