/**
 * The resident's inbox on their own API: `GET /api/v1/me/notifications` (newest first, paged by the
 * `next` cursor), the unread count, marking one or all read. Only the portal's token for the
 * resident's API opens it, and only the resident's own items are ever found.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Db, listTenants } from '../../platform/index.ts';
import { type DeliveryIdentity, NOTIFICATIONS_PATH } from '../types.ts';
import { markAllRead, markOneRead, readInbox, unreadCount } from './read.ts';
import type { Notification } from './store.ts';

export interface InboxRoutesOptions {
  db: Db;
  identity: DeliveryIdentity;
}

const municipality = {
  type: 'object',
  properties: { code: { type: 'string' }, name: { type: 'string' }, nameEn: { type: 'string' } },
} as const;

const notificationView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    title: { type: 'string' },
    body: { type: 'string' },
    url: { type: ['string', 'null'] },
    municipality,
    createdAt: { type: 'string' },
    readAt: { type: ['string', 'null'] },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

type Names = Map<string, { code: string; name: string; nameEn: string }>;

function view(n: Notification, names: Names) {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    url: n.url,
    municipality: names.get(n.tenant) ?? { code: n.tenant, name: n.tenant, nameEn: n.tenant },
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt?.toISOString() ?? null,
  };
}

export async function inboxRoutes(app: FastifyInstance, options: InboxRoutesOptions): Promise<void> {
  const { db, identity } = options;
  const resident = async (request: FastifyRequest) => (await identity.resident(request)).accountId;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get<{ Querystring: { limit?: number; before?: string } }>(
    NOTIFICATIONS_PATH,
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            before: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              notifications: { type: 'array', items: notificationView },
              next: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      const { limit = 20, before } = request.query;
      const page = await readInbox(db, accountId, { limit, before: before ? Number(before) : undefined });
      const names: Names = new Map((await listTenants(db)).map((t) => [t.code, t]));
      noStore(reply);
      return {
        notifications: page.items.map((n) => view(n, names)),
        next: page.next === undefined ? null : String(page.next),
      };
    },
  );

  app.get(
    `${NOTIFICATIONS_PATH}/unread-count`,
    { schema: { response: { 200: { type: 'object', properties: { unread: { type: 'integer' } } } } } },
    async (request, reply) => {
      const accountId = await resident(request);
      noStore(reply);
      return { unread: await unreadCount(db, accountId) };
    },
  );

  app.post<{ Params: { id: string } }>(
    `${NOTIFICATIONS_PATH}/:id/read`,
    { schema: { params: idParams } },
    async (request, reply) => {
      const accountId = await resident(request);
      await markOneRead(db, accountId, request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    `${NOTIFICATIONS_PATH}/read-all`,
    { schema: { response: { 200: { type: 'object', properties: { marked: { type: 'integer' } } } } } },
    async (request, reply) => {
      const accountId = await resident(request);
      noStore(reply);
      return { marked: await markAllRead(db, accountId) };
    },
  );
}
