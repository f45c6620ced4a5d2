/**
 * The resident's Web Push devices on their own API, under `/api/v1/me/notifications/push`: the
 * application server key to subscribe with, registering the browser's subscription as a device,
 * listing and removing devices, and a test notification to one. Another resident's device answers
 * 404, as one that does not exist. Endpoints and keys are never shown back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  Conflict,
  type Db,
  enqueue,
  NotFound,
  type OutboundPolicy,
  type SecretBox,
} from '../../platform/index.ts';
import { type DeliveryIdentity, NOTIFICATIONS_PATH } from '../types.ts';
import { PUSH_TEST_QUEUE } from './jobs.ts';
import { type Device, deleteDevice, findDevice, listDevices, MAX_DEVICES, saveDevice } from './store.ts';
import {
  parseSubscription,
  pushServiceOf,
  type SubscriptionInput,
  subscriptionBody,
} from './subscription.ts';
import type { VapidKeys } from './vapid.ts';

export const PUSH_PATH = `${NOTIFICATIONS_PATH}/push`;

export interface PushRoutesOptions {
  db: Db;
  identity: DeliveryIdentity;
  box: SecretBox;
  outbound: OutboundPolicy;
  vapidKeys: () => Promise<VapidKeys>;
}

const deviceView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    label: { type: ['string', 'null'] },
    pushService: { type: 'string' },
    createdAt: { type: 'string' },
    lastPush: {
      type: ['object', 'null'],
      properties: {
        status: { type: 'string' },
        at: { type: 'string' },
        reason: { type: ['string', 'null'] },
      },
    },
  },
} as const;

const deviceParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

function view(d: Device) {
  return {
    id: d.id,
    label: d.label,
    pushService: pushServiceOf(d.endpoint),
    createdAt: d.createdAt.toISOString(),
    lastPush:
      d.lastStatus && d.lastStatusAt
        ? { status: d.lastStatus, at: d.lastStatusAt.toISOString(), reason: d.lastReason }
        : null,
  };
}

export async function pushRoutes(app: FastifyInstance, options: PushRoutesOptions): Promise<void> {
  const { db, identity, box, outbound } = options;
  const resident = async (request: FastifyRequest) => (await identity.resident(request)).accountId;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get(
    `${PUSH_PATH}/key`,
    {
      schema: {
        response: { 200: { type: 'object', properties: { applicationServerKey: { type: 'string' } } } },
      },
    },
    async (request) => {
      await resident(request);
      return { applicationServerKey: (await options.vapidKeys()).publicKey };
    },
  );

  app.get(
    `${PUSH_PATH}/devices`,
    {
      schema: {
        response: { 200: { type: 'object', properties: { devices: { type: 'array', items: deviceView } } } },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      noStore(reply);
      return { devices: (await listDevices(db, accountId)).map(view) };
    },
  );

  app.post<{ Body: SubscriptionInput }>(
    `${PUSH_PATH}/devices`,
    { schema: { body: subscriptionBody, response: { 200: deviceView, 201: deviceView } } },
    async (request, reply) => {
      const accountId = await resident(request);
      const subscription = parseSubscription(request.body, outbound);
      const saved = await db.transaction((tx) => saveDevice(tx, box, accountId, subscription));
      if (!saved) throw new Conflict(`an account can have at most ${MAX_DEVICES} devices; remove one first`);
      noStore(reply);
      return reply.code(saved.created ? 201 : 200).send(view(saved.device));
    },
  );

  app.delete<{ Params: { id: string } }>(
    `${PUSH_PATH}/devices/:id`,
    { schema: { params: deviceParams } },
    async (request, reply) => {
      const accountId = await resident(request);
      if (!(await deleteDevice(db, accountId, request.params.id))) {
        throw new NotFound(`no device ${request.params.id}`);
      }
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string }; Querystring: { lang?: 'ja' | 'en' } }>(
    `${PUSH_PATH}/devices/:id/test`,
    {
      schema: {
        params: deviceParams,
        querystring: { type: 'object', properties: { lang: { type: 'string', enum: ['ja', 'en'] } } },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      const device = await findDevice(db, accountId, request.params.id);
      if (!device) throw new NotFound(`no device ${request.params.id}`);
      // Through the job queue like every push: the answer is that it is on its way; the device's
      // `lastPush` tells what became of it.
      await enqueue(db, PUSH_TEST_QUEUE, {
        account: accountId,
        device: device.id,
        lang: request.query.lang ?? 'ja',
      });
      return reply.code(202).send({ queued: true });
    },
  );
}
