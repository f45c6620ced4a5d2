/**
 * The push jobs. `delivery.push` fans one inbox item out to the resident's devices and records the
 * outcome per device; devices that have it (or are gone, or refused it for good) are skipped when
 * the job runs again, so a retry after a 429 or 5xx pushes only to the devices that did not get it.
 * `delivery.push-test` sends the resident's test notification to one device.
 * A push service answering 404 or 410 has ended the subscription: the device is removed.
 */
import type { Db, Job, JobHandler, OutboundPolicy, SecretBox } from '../../platform/index.ts';
import { PUSH_QUEUE } from '../inbox/notify.ts';
import { findNotification, listDeliveries, type PushJobPayload, recordDelivery } from '../inbox/store.ts';
import type { PushStatus } from '../types.ts';
import { notificationPayload, testPayload } from './payload.ts';
import { type PushContext, type PushMessage, type PushOutcome, pushTo } from './send.ts';
import { deleteDevice, type PushTarget, pushTargets, recordDeviceStatus } from './store.ts';
import { type VapidKeys, vapidKeysOnce, vapidSubject } from './vapid.ts';

export const PUSH_TEST_QUEUE = 'delivery.push-test';
/** A test is for now: a device that is offline for longer has nothing to show. */
const TEST_TTL_SECONDS = 300;
const FINAL: ReadonlySet<PushStatus> = new Set(['sent', 'gone', 'failed']);

export interface DeliveryJobOptions {
  /** Opens the VAPID private key and the devices' auth secrets. */
  box: SecretBox;
  outbound: OutboundPolicy;
  publicUrl: string;
  vapidSubject?: string | undefined;
}

/** A retryable failure the job will try again: the worker backs off and runs the job later. */
class PushRetry extends Error {
  override name = 'PushRetry';
}

/** The status to keep: a retryable failure is `retrying` until the job's last attempt. */
function statusOf(outcome: PushOutcome, lastAttempt: boolean): PushStatus {
  if (outcome.status === 'failed' && outcome.retryable && !lastAttempt) return 'retrying';
  return outcome.status;
}

const reasonOf = (outcome: PushOutcome) => ('reason' in outcome ? outcome.reason : undefined);

interface Pusher {
  db: Db;
  box: SecretBox;
  outbound: OutboundPolicy;
  subject: string;
  keys: () => Promise<VapidKeys>;
}

/** Pushes to one device and keeps its last status; removes it when its subscription has ended. */
async function pushToDevice(
  p: Pusher,
  target: PushTarget,
  message: PushMessage,
  signal: AbortSignal,
  lastAttempt: boolean,
): Promise<PushOutcome> {
  const context: PushContext = {
    vapid: { ...(await p.keys()), subject: p.subject },
    outbound: p.outbound,
    signal,
  };
  const outcome = await pushTo(target, message, context);
  if (outcome.status === 'gone') await deleteDevice(p.db, target.accountId, target.id);
  else await recordDeviceStatus(p.db, target, statusOf(outcome, lastAttempt), reasonOf(outcome));
  return outcome;
}

/** Throws for the queue to run the job again when a push service was busy and attempts are left. */
function retryIfAny(outcomes: PushOutcome[], lastAttempt: boolean): void {
  const again = outcomes.filter((o) => o.status === 'failed' && o.retryable).length;
  if (again > 0 && !lastAttempt) {
    throw new PushRetry(`${again} of ${outcomes.length} pushes met a busy or unreachable push service`);
  }
}

const notAJob = (what: string) => Object.assign(new Error(`not a ${what} job`), { retryable: false });

/** `delivery.push`: the inbox item to every device of its resident that does not have it yet. */
async function pushNotification(p: Pusher, job: Job, signal: AbortSignal): Promise<void> {
  const tenant = job.tenantId;
  const { notification: id, urgency, ttl } = job.payload as unknown as PushJobPayload;
  if (!tenant || typeof id !== 'string') throw notAJob(PUSH_QUEUE);
  const { notification, done } = await p.db.withTenant(tenant, async (tx) => ({
    notification: await findNotification(tx, tenant, id),
    done: await listDeliveries(tx, tenant, id),
  }));
  if (!notification) return;
  const final = new Set(done.filter((d) => FINAL.has(d.status)).map((d) => d.deviceId));
  const targets = await pushTargets(p.db, p.box, notification.accountId);
  const lastAttempt = job.attempts >= job.maxAttempts;
  const message = { payload: notificationPayload(notification), ttl, urgency };
  const outcomes = await Promise.all(
    targets
      .filter((d) => !final.has(d.id))
      .map(async (target) => {
        const outcome = await pushToDevice(p, target, message, signal, lastAttempt);
        const status = statusOf(outcome, lastAttempt);
        const record = {
          deviceId: target.id,
          status,
          httpStatus: outcome.httpStatus,
          reason: reasonOf(outcome),
        };
        await p.db.withTenant(tenant, (tx) => recordDelivery(tx, tenant, id, record));
        return outcome;
      }),
  );
  retryIfAny(outcomes, lastAttempt);
}

/** `delivery.push-test`: the resident's test notification to one of their devices. */
async function pushTest(p: Pusher, job: Job, signal: AbortSignal): Promise<void> {
  const { account, device, lang } = job.payload as { account?: unknown; device?: unknown; lang?: unknown };
  if (typeof account !== 'string' || typeof device !== 'string') throw notAJob(PUSH_TEST_QUEUE);
  const [target] = await pushTargets(p.db, p.box, account, device);
  if (!target) return;
  const lastAttempt = job.attempts >= job.maxAttempts;
  const message: PushMessage = {
    payload: testPayload(lang === 'en' ? 'en' : 'ja'),
    ttl: TEST_TTL_SECONDS,
    urgency: 'normal',
  };
  retryIfAny([await pushToDevice(p, target, message, signal, lastAttempt)], lastAttempt);
}

export function deliveryJobHandlers(db: Db, options: DeliveryJobOptions): Record<string, JobHandler> {
  const p: Pusher = {
    db,
    box: options.box,
    outbound: options.outbound,
    subject: vapidSubject(options),
    keys: vapidKeysOnce(db, options.box),
  };
  return {
    [PUSH_QUEUE]: (job, signal) => pushNotification(p, job, signal),
    [PUSH_TEST_QUEUE]: (job, signal) => pushTest(p, job, signal),
  };
}
