/**
 * Durable jobs in PostgreSQL: at-least-once delivery, retries with exponential backoff,
 * a dead state after the last attempt, every job visible in `platform.jobs`.
 * Workers (in this or other processes) take due jobs with FOR UPDATE SKIP LOCKED under a lease
 * they renew while the handler runs; a job whose worker died is taken again when its lease ends.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Db, Queryable } from './db.ts';

export type JobState = 'pending' | 'running' | 'done' | 'dead';

export interface Job<P = Record<string, unknown>> {
  id: number;
  queue: string;
  tenantId: string | null;
  payload: P;
  attempts: number;
  maxAttempts: number;
}

export interface EnqueueOptions {
  tenantId?: string | null;
  idempotencyKey?: string;
  maxAttempts?: number;
  /** Run no earlier than this. */
  runAt?: Date;
}

/**
 * Adds a job. Pass the transaction of the change that causes it, so the job exists exactly when
 * the change does. With an idempotency key, a second call for the same queue and tenant returns
 * the first job's id; keys of different tenants never meet.
 */
export async function enqueue(
  db: Queryable,
  queue: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into platform.jobs (queue, tenant_id, payload, idempotency_key, max_attempts, run_at)
     values ($1, $2, $3, $4, $5, coalesce($6, now()))
     on conflict (queue, coalesce(tenant_id, ''), idempotency_key) where idempotency_key is not null do nothing
     returning id`,
    [
      queue,
      options.tenantId ?? null,
      JSON.stringify(payload),
      options.idempotencyKey ?? null,
      options.maxAttempts ?? 10,
      options.runAt ?? null,
    ],
  );
  if (rows[0]) {
    return rows[0].id;
  }
  const existing = await db.query<{ id: number }>(
    `select id from platform.jobs
      where queue = $1 and coalesce(tenant_id, '') = coalesce($2::text, '') and idempotency_key = $3`,
    [queue, options.tenantId ?? null, options.idempotencyKey],
  );
  if (!existing.rows[0]) {
    throw new Error(`job ${queue}/${options.idempotencyKey} is neither new nor visible`);
  }
  return existing.rows[0].id;
}

/**
 * Adds several jobs of one queue in one statement (a batch's notifications, say), in the order given.
 * A job whose idempotency key its queue and tenant have already is left out, as `enqueue` leaves it.
 */
export async function enqueueMany(
  db: Queryable,
  queue: string,
  jobs: { payload: Record<string, unknown>; options?: EnqueueOptions }[],
): Promise<void> {
  if (jobs.length === 0) {
    return;
  }
  const rows = jobs.map(({ payload, options = {} }, n) => ({
    n,
    tenant_id: options.tenantId ?? null,
    payload,
    idempotency_key: options.idempotencyKey ?? null,
    max_attempts: options.maxAttempts ?? 10,
    run_at: options.runAt ?? null,
  }));
  await db.query(
    `insert into platform.jobs (queue, tenant_id, payload, idempotency_key, max_attempts, run_at)
     select $1, j.tenant_id, j.payload, j.idempotency_key, j.max_attempts, coalesce(j.run_at, now())
       from jsonb_to_recordset($2::jsonb)
            as j(n integer, tenant_id text, payload jsonb, idempotency_key text, max_attempts integer,
                 run_at timestamptz)
      order by j.n
     on conflict (queue, coalesce(tenant_id, ''), idempotency_key) where idempotency_key is not null do nothing`,
    [queue, JSON.stringify(rows)],
  );
}

/** Delay before attempt n+1: 2^(n-1) × base, capped, with ±20% jitter so retries spread out. */
export function backoffSeconds(attempts: number, baseSeconds = 5, capSeconds = 3600): number {
  const raw = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4) * 1000) / 1000;
}

export type JobHandler = (job: Job, signal: AbortSignal) => Promise<void>;

export interface WorkerOptions {
  /** Handlers by queue name; the worker takes jobs of these queues only. */
  handlers: Record<string, JobHandler>;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseSeconds?: number;
  backoffBaseSeconds?: number;
  /** Called with a one-line summary when a job fails (never the payload: it may hold personal data). */
  onError?: (job: Job, error: unknown) => void;
}

interface JobRow {
  id: number;
  queue: string;
  tenant_id: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
}

/** Takes up to `limit` due jobs (or jobs whose lease ran out) of the given queues. */
export async function takeJobs(
  db: Queryable,
  workerId: string,
  queues: string[],
  limit: number,
  leaseSeconds: number,
): Promise<Job[]> {
  const { rows } = await db.query<JobRow>(
    `update platform.jobs j
        set state = 'running', attempts = j.attempts + 1, locked_by = $1,
            locked_until = now() + make_interval(secs => $4::double precision), updated_at = now()
      where j.id in (
        select id from platform.jobs
         where queue = any($2::text[])
           and ((state = 'pending' and run_at <= now()) or (state = 'running' and locked_until < now()))
         order by run_at, id
         limit $3
         for update skip locked)
      returning j.id, j.queue, j.tenant_id, j.payload, j.attempts, j.max_attempts`,
    [workerId, queues, limit, leaseSeconds],
  );
  return rows.map((r) => ({
    id: r.id,
    queue: r.queue,
    tenantId: r.tenant_id,
    payload: r.payload,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
  }));
}

/** A worker: polls for due jobs and runs them, up to `concurrency` at once. */
export class Worker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #db: Db;
  readonly #options: Required<Omit<WorkerOptions, 'onError'>> & Pick<WorkerOptions, 'onError'>;
  readonly #running = new Map<number, Promise<void>>();
  #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  /** The poll in flight: the jobs it takes are this worker's to run, even when stop() comes first. */
  #polling: Promise<void> | undefined;
  #stopped = true;

  constructor(db: Db, options: WorkerOptions) {
    this.#db = db;
    this.#options = {
      concurrency: 4,
      pollIntervalMs: 1000,
      leaseSeconds: 30,
      backoffBaseSeconds: 5,
      ...options,
    };
  }

  start(): void {
    if (this.#abort.signal.aborted) {
      // The last stop() aborted its handlers; the handlers of this run must not start out aborted.
      this.#abort = new AbortController();
    }
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Looks for due jobs now (after an enqueue in this process). */
  wake(): void {
    if (!this.#stopped) {
      this.#schedule(0);
    }
  }

  /** Stops taking jobs and waits for the running ones to finish (or aborts them after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Jobs a poll in flight takes are already marked running under our lease: wait for them too,
    // or they would run after stop() returned (perhaps on a closed database) or wait out their lease.
    await this.#polling;
    const all = Promise.allSettled(this.#running.values());
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([all, timeout]);
    this.#abort.abort();
    await all;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#poll(), ms);
  }

  #poll(): void {
    if (this.#stopped || this.#polling) {
      return;
    }
    this.#polling = this.#takeAndRun().finally(() => {
      this.#polling = undefined;
    });
  }

  async #takeAndRun(): Promise<void> {
    let taken = 0;
    try {
      const free = this.#options.concurrency - this.#running.size;
      if (free > 0) {
        const jobs = await takeJobs(
          this.#db,
          this.id,
          Object.keys(this.#options.handlers),
          free,
          this.#options.leaseSeconds,
        );
        taken = jobs.length;
        for (const job of jobs) {
          const run = this.#run(job).finally(() => {
            this.#running.delete(job.id);
            this.wake();
          });
          this.#running.set(job.id, run);
        }
      }
    } catch {
      // The database is unreachable for now; try again at the next poll.
    } finally {
      if (!this.#stopped) {
        this.#schedule(
          taken > 0 && this.#running.size < this.#options.concurrency ? 0 : this.#options.pollIntervalMs,
        );
      }
    }
  }

  async #run(job: Job): Promise<void> {
    const handler = this.#options.handlers[job.queue];
    const renew = setInterval(() => void this.#renewLease(job.id), (this.#options.leaseSeconds * 1000) / 3);
    try {
      if (job.attempts > job.maxAttempts) {
        throw new Error('the worker running the last attempt stopped before it finished');
      }
      if (!handler) {
        throw new Error(`no handler for queue ${job.queue}`);
      }
      await handler(job, this.#abort.signal);
      clearInterval(renew);
      await this.#db.query(
        `update platform.jobs set state = 'done', finished_at = now(), updated_at = now(),
                locked_by = null, locked_until = null, last_error = null
          where id = $1 and locked_by = $2`,
        [job.id, this.id],
      );
    } catch (error) {
      clearInterval(renew);
      this.#options.onError?.(job, error);
      await this.#fail(job, error).catch(() => {});
    }
  }

  async #renewLease(jobId: number): Promise<void> {
    await this.#db
      .query(
        `update platform.jobs set locked_until = now() + make_interval(secs => $3::double precision), updated_at = now()
          where id = $1 and locked_by = $2 and state = 'running'`,
        [jobId, this.id, this.#options.leaseSeconds],
      )
      .catch(() => {});
  }

  async #fail(job: Job, error: unknown): Promise<void> {
    const message = errorSummary(error);
    const dead = job.attempts >= job.maxAttempts || !retryable(error);
    await this.#db.query(
      `update platform.jobs
          set state = $3, last_error = $4, updated_at = now(), locked_by = null, locked_until = null,
              run_at = case when $3 = 'pending' then now() + make_interval(secs => $5::double precision) else run_at end,
              finished_at = case when $3 = 'dead' then now() else null end
        where id = $1 and locked_by = $2`,
      [
        job.id,
        this.id,
        dead ? 'dead' : 'pending',
        message,
        backoffSeconds(job.attempts, this.#options.backoffBaseSeconds),
      ],
    );
  }
}

/**
 * Whether another attempt could succeed: a handler's error with `retryable: false` (a destination
 * the outbound policy refuses, say) makes the job dead at once instead of retrying it in vain.
 */
function retryable(error: unknown): boolean {
  return (error as { retryable?: unknown } | null)?.retryable !== false;
}

/** What `last_error` keeps: the error's name and message, bounded so a huge message cannot bloat the row. */
function errorSummary(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

export interface JobCounts {
  queue: string;
  state: JobState;
  count: number;
}

/** Jobs by queue and state, for metrics and the operator. */
export async function countJobs(db: Queryable): Promise<JobCounts[]> {
  const { rows } = await db.query<JobCounts>(
    'select queue, state, count(*)::int as count from platform.jobs group by queue, state order by queue, state',
  );
  return rows;
}

/** Puts a dead job back in the queue for another round of attempts. */
export async function retryDeadJob(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `update platform.jobs set state = 'pending', attempts = 0, run_at = now(), finished_at = null, updated_at = now()
      where id = $1 and state = 'dead'`,
    [id],
  );
  return rowCount > 0;
}
