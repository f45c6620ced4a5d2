/**
 * Delivery's routes on the resident's own API, as one plugin: the inbox and the Web Push devices.
 * The VAPID key pair is made (or read) as the plugin starts, so a deployment has it before any
 * browser asks for it, and a master key that cannot open it stops the start.
 */
import type { FastifyInstance } from 'fastify';
import type { Db, OutboundPolicy, SecretBox } from '../platform/index.ts';
import { inboxRoutes } from './inbox/routes.ts';
import { pushRoutes } from './push/routes.ts';
import { vapidKeysOnce } from './push/vapid.ts';
import type { DeliveryIdentity } from './types.ts';

export interface NotificationRoutesOptions {
  db: Db;
  identity: DeliveryIdentity;
  /** Seals the VAPID private key and the devices' auth secrets. */
  box: SecretBox;
  /** Which push services a subscription may name. */
  outbound: OutboundPolicy;
}

export async function notificationRoutes(
  app: FastifyInstance,
  options: NotificationRoutesOptions,
): Promise<void> {
  const { db, identity, box, outbound } = options;
  const vapidKeys = vapidKeysOnce(db, box);
  await vapidKeys();
  await inboxRoutes(app, { db, identity });
  await pushRoutes(app, { db, identity, box, outbound, vapidKeys });
}
