/**
 * The periodic consent job (queue `consent.access-checkpoint`): a self-rescheduling chain of jobs
 * on a fixed grid, one per period, each with its own idempotency key, so however many processes
 * start the chain or run its jobs, each period runs once. Each writes the expiry of consents that
 * ran out into their history, then signs the access log's checkpoint. A worker that was down skips
 * the missed periods: one checkpoint covers every head that moved meanwhile.
 */
import {
  type Db,
  enqueue,
  type Job,
  type JobHandler,
  listTenants,
  type Queryable,
  type SecretBox,
} from '../platform/index.ts';
import { checkpointSigner, writeCheckpoint } from './access-log-checkpoint.ts';
import { expireConsents } from './records.ts';

export const CHECKPOINT_QUEUE = 'consent.access-checkpoint';
/** Default period: hourly. */
export const CHECKPOINT_EVERY_SECONDS = 3600;

/** The period start at or after `ms` on the grid of `seconds` (aligned to the Unix epoch). */
function slotAfter(ms: number, seconds: number): Date {
  const period = seconds * 1000;
  return new Date(Math.ceil(ms / period) * period);
}

/** Queues the checkpoint of one period (idempotent: a period is queued once, whoever asks). */
export async function scheduleCheckpoint(db: Queryable, due: Date): Promise<void> {
  await enqueue(
    db,
    CHECKPOINT_QUEUE,
    { due: due.toISOString() },
    { idempotencyKey: due.toISOString(), maxAttempts: 3, runAt: due },
  );
}

/**
 * Starts the chain: queues the next period's checkpoint. Call at every start of a worker (it is
 * idempotent), so that a chain whose last job died restarts.
 */
export function startCheckpoints(db: Db, everySeconds = CHECKPOINT_EVERY_SECONDS): Promise<void> {
  return scheduleCheckpoint(db, slotAfter(Date.now(), everySeconds));
}

/**
 * Writes `expired` into the history of every tenant's consents that ran out (decisions never wait
 * for it: they compare the expiry themselves). Returns how many records expired.
 */
export async function expireAllConsents(db: Db): Promise<number> {
  let expired = 0;
  for (const tenant of await listTenants(db)) {
    expired += await db.withTenant(tenant.code, (tx) => expireConsents(tx, tenant.code));
  }
  return expired;
}

/** The handler of `consent.access-checkpoint`: queues the next period, then signs every tenant's moved heads. */
export function checkpointJobHandlers(
  db: Db,
  box: SecretBox,
  everySeconds = CHECKPOINT_EVERY_SECONDS,
): Record<string, JobHandler> {
  let signer: ReturnType<typeof checkpointSigner> | undefined;
  return {
    [CHECKPOINT_QUEUE]: async (job: Job) => {
      const due = Date.parse(String(job.payload.due));
      // The next period is queued first, so a failing checkpoint never ends the chain.
      await scheduleCheckpoint(db, slotAfter(Math.max(due + 1, Date.now()), everySeconds));
      await expireAllConsents(db);
      signer ??= checkpointSigner(box);
      await writeCheckpoint(db, await signer);
    },
  };
}
