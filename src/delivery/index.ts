/**
 * Delivery: what Machi tells a resident, through their portal inbox and Web Push to their devices.
 * Other modules notify only through `notifyResident`, in the transaction of the change that causes
 * it; delivery never writes a title, body or endpoint to a log or a job's payload.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/index.ts';

export { eraseNotifications, forgetDevices } from './inbox/erase.ts';
export { type Notify, notifyResident, PUSH_QUEUE } from './inbox/notify.ts';
export { type DeliveryJobOptions, deliveryJobHandlers, PUSH_TEST_QUEUE } from './push/jobs.ts';
export { ensureVapidKeys, type VapidKeys, vapidSubject } from './push/vapid.ts';
export { type NotificationRoutesOptions, notificationRoutes } from './routes.ts';
export {
  type DeliveryIdentity,
  NOTIFICATIONS_PATH,
  type PushStatus,
  type Urgency,
} from './types.ts';

export const deliveryMigrations: MigrationSource = {
  capability: 'delivery',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
