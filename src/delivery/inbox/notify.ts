/**
 * `notifyResident`: how every other module tells a resident something. The inbox item and the push
 * job are written in the caller's transaction, so a notification exists exactly when the change
 * that caused it commits, and a rolled-back change notifies no one.
 */
import { BadRequest, enqueue, type Queryable } from '../../platform/index.ts';
import { URGENCIES, type Urgency } from '../types.ts';
import { insertNotification, type PushJobPayload } from './store.ts';

/** The queue of pushes for inbox items: one job per item, fanning out to the resident's devices. */
export const PUSH_QUEUE = 'delivery.push';
/** A day: the inbox keeps the item, so a push that arrives later than that is only noise. */
const DEFAULT_TTL_SECONDS = 86_400;
/** Four weeks, the most push services keep a message. */
const MAX_TTL_SECONDS = 2_419_200;

export interface Notify {
  /** The municipality (or prefecture) telling, whose transaction this is. */
  tenant: string;
  accountId: string;
  /** What it is about, for the portal's icon and filters: `epost.letter`, `disaster.alert`. */
  kind: string;
  title: string;
  body: string;
  /** Where the notification leads: a path of the portal (`/letters/…`) or an https URL. */
  url?: string;
  /** The caller's key for this event and resident: the same key again notifies no one twice. */
  idempotencyKey: string;
  /** Default `normal`; `high` for alerts that must wake a phone. */
  urgency?: Urgency;
  /** How long a push service keeps the push for a device that is offline (default a day). */
  ttlSeconds?: number;
}

const KIND = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first thing wrong with the input, in words for the calling module's developer. */
function problemWith(n: Notify): string | undefined {
  if (!UUID.test(n.accountId)) return 'accountId must be an account id (a UUID)';
  if (!KIND.test(n.kind) || n.kind.length > 64) return 'kind must be a dotted lowercase name (epost.letter)';
  if (n.title.trim() === '' || n.title.length > 200) return 'title must have 1 to 200 characters';
  if (n.body.length > 4000) return 'body must have at most 4000 characters';
  if (n.idempotencyKey === '' || n.idempotencyKey.length > 200) {
    return 'idempotencyKey must have 1 to 200 characters';
  }
  if (n.url !== undefined && !isLink(n.url)) return 'url must be a path of the portal (/…) or an https URL';
  if (n.urgency !== undefined && !URGENCIES.includes(n.urgency)) return `urgency must be one of ${URGENCIES}`;
  const ttl = n.ttlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS)) {
    return `ttlSeconds must be a whole number from 0 to ${MAX_TTL_SECONDS}`;
  }
  return undefined;
}

function isLink(url: string): boolean {
  if (url.length > 2000) return false;
  if (url.startsWith('/')) return !url.startsWith('//') && !url.startsWith('/\\');
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Puts a notification in the resident's inbox and queues its push to their devices. Call it with
 * the transaction of the change that causes it, which must be `db.withTenant(input.tenant, …)`.
 * @returns the item's id, and whether this call made it (false: the idempotency key was used)
 * @throws BadRequest when the input is not a notification Machi can show
 */
export async function notifyResident(
  tx: Queryable,
  input: Notify,
): Promise<{ id: string; created: boolean }> {
  const problem = problemWith(input);
  if (problem) throw new BadRequest(problem);
  const made = await insertNotification(tx, input.tenant, {
    accountId: input.accountId,
    kind: input.kind,
    title: input.title,
    body: input.body,
    url: input.url,
    idempotencyKey: input.idempotencyKey,
  });
  if (made.created) {
    // Ids only: the job table is read by operators, and the item itself is the tenant's to show.
    const payload: PushJobPayload = {
      notification: made.id,
      urgency: input.urgency ?? 'normal',
      ttl: input.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    };
    await enqueue(tx, PUSH_QUEUE, { ...payload }, { tenantId: input.tenant, idempotencyKey: made.id });
  }
  return made;
}
