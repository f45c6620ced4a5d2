/**
 * The durable job queue (`platform.jobs`) as operators and later capabilities rely on it: a job runs
 * once and stays visible, idempotency keys, retries with growing delays and a dead state, several
 * workers without double work, a worker killed mid-job, tenant isolation, and a clean stop().
 * On PostgreSQL the tests that are about processes run real worker processes
 * (test/fixtures/job-worker.ts); on PGlite, which one process opens at a time, they run several
 * workers in this process, or worker processes one after another on a data folder on disk.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addTenant,
  backoffSeconds,
  countJobs,
  type Db,
  enqueue,
  type Job,
  openDb,
  retryDeadJob,
  takeJobs,
  Worker,
  type WorkerOptions,
} from '../../src/platform/index.ts';
import { createJobTestTables, EFFECT_QUEUE, RECORD_QUEUE, recordHandler } from '../fixtures/job-handlers.ts';
import { deferred, gateTakes, jobRow, untilReleased, waitFor, waitForJob } from '../fixtures/job-helpers.ts';
import {
  exitOf,
  killWorkerProcesses,
  spawnWorkerProcess,
  type WorkerProcess,
} from '../fixtures/job-processes.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const workers: Worker[] = [];

function startWorker(db: Db, options: WorkerOptions): Worker {
  const worker = new Worker(db, { pollIntervalMs: 20, ...options });
  workers.push(worker);
  worker.start();
  return worker;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((w) => w.stop(1000)));
}

const TENANTS = [
  { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' },
  { code: '041009', name: '仙台市', nameEn: 'Sendai City' },
  { code: '042021', name: '石巻市', nameEn: 'Ishinomaki City' },
];
const SENDAI = '041009';
const ISHINOMAKI = '042021';

describe(`job queue (${backend})`, () => {
  let t: TestDb;
  let db: Db;

  before(async () => {
    t = await createTestDb();
    db = t.db;
    await createJobTestTables(db);
    for (const tenant of TENANTS) {
      await addTenant(db, tenant);
    }
  });
  afterEach(stopWorkers);
  after(async () => {
    await stopWorkers();
    await killWorkerProcesses();
    await t?.close();
  });

  it('runs an enqueued job once and shows it as done in platform.jobs', async () => {
    const payload = { noticeId: 42, title: '断水のお知らせ' };
    const id = await enqueue(db, 'test.once', payload);
    assert.equal((await jobRow(db, id)).state, 'pending');

    const seen: Job[] = [];
    startWorker(db, { handlers: { 'test.once': async (job) => void seen.push(job) } });
    const done = await waitForJob(db, id, (r) => r.state === 'done');

    assert.equal(done.attempts, 1);
    assert.ok(done.finished_at, 'finished_at is set');
    assert.equal(done.locked_by, null);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]?.payload, payload);
    const counts = (await countJobs(db)).filter((c) => c.queue === 'test.once');
    assert.deepEqual(counts, [{ queue: 'test.once', state: 'done', count: 1 }]);
  });

  it('gives back the same job when the same idempotency key is enqueued twice on a queue', async () => {
    const first = await enqueue(db, 'test.idempotent', { n: 1 }, { idempotencyKey: 'notice-7' });
    const again = await enqueue(db, 'test.idempotent', { n: 2 }, { idempotencyKey: 'notice-7' });
    const racing = await Promise.all([
      enqueue(db, 'test.idempotent', {}, { idempotencyKey: 'notice-8' }),
      enqueue(db, 'test.idempotent', {}, { idempotencyKey: 'notice-8' }),
    ]);
    const otherQueue = await enqueue(db, 'test.idempotent-other', {}, { idempotencyKey: 'notice-7' });

    assert.equal(again, first);
    assert.equal(racing[0], racing[1]);
    assert.notEqual(otherQueue, first, 'the same key on another queue is another job');
    const { rows } = await db.query<{ idempotency_key: string; payload: unknown }>(
      `select idempotency_key, payload from platform.jobs where queue = 'test.idempotent' order by id`,
    );
    assert.deepEqual(rows, [
      { idempotency_key: 'notice-7', payload: { n: 1 } },
      { idempotency_key: 'notice-8', payload: {} },
    ]);
  });

  describe('retries', () => {
    it('doubles the delay before each retry, within ±20% jitter, up to the cap', () => {
      for (const [attempts, nominal] of [
        [1, 5],
        [2, 10],
        [3, 20],
        [10, 2560],
        [20, 3600],
      ] as const) {
        const delay = backoffSeconds(attempts);
        assert.ok(
          delay >= nominal * 0.8 && delay <= nominal * 1.2,
          `${attempts} attempts: ${delay} s ~ ${nominal} s`,
        );
      }
    });

    it('retries a failing job later each time, records why, and makes it dead after its last attempt', async () => {
      const id = await enqueue(db, 'test.backoff', { to: 'post office' }, { maxAttempts: 3 });
      const worker = startWorker(db, {
        handlers: {
          'test.backoff': async () => {
            throw new Error('the post office API answered 503');
          },
        },
        backoffBaseSeconds: 60,
      });

      const delays: number[] = [];
      for (const attempt of [1, 2]) {
        const failed = await waitForJob(db, id, (r) => r.attempts === attempt && r.state === 'pending');
        assert.equal(failed.last_error, 'Error: the post office API answered 503');
        delays.push(failed.delay_seconds);
        // The test plays the clock: the retry is due now instead of in a minute or two.
        await db.query('update platform.jobs set run_at = now() where id = $1', [id]);
        worker.wake();
      }
      const dead = await waitForJob(db, id, (r) => r.state === 'dead');

      const [first = 0, second = 0] = delays;
      assert.ok(first >= 48 && first <= 72, `first retry after ${first} s, about 60 s`);
      assert.ok(second >= 96 && second <= 144, `second retry after ${second} s, about 120 s`);
      assert.ok(second > first, 'each retry is further out than the one before');
      assert.equal(dead.attempts, 3);
      assert.equal(dead.last_error, 'Error: the post office API answered 503');
      assert.ok(dead.finished_at, 'a dead job has finished_at');
    });

    it('puts a dead job back in the queue when an operator retries it, and it can then succeed', async () => {
      const id = await enqueue(db, 'test.revive', {}, { maxAttempts: 1 });
      let fail = true;
      startWorker(db, {
        handlers: {
          'test.revive': async () => {
            if (fail) {
              throw new Error('the mail server refused the message');
            }
          },
        },
      });
      await waitForJob(db, id, (r) => r.state === 'dead');
      assert.equal(await retryDeadJob(db, id), true);

      fail = false;
      const done = await waitForJob(db, id, (r) => r.state === 'done');
      assert.equal(done.attempts, 1, 'a retried job gets its attempts anew');
      assert.equal(await retryDeadJob(db, id), false, 'a job that is not dead is not retried');
    });

    it('makes a job dead, without running it again, when the worker of its last attempt vanished', async () => {
      const id = await enqueue(db, 'test.last-attempt', {}, { maxAttempts: 1 });
      // A worker takes the job under a short lease and is never heard of again.
      const taken = await takeJobs(db, 'vanished-worker', ['test.last-attempt'], 1, 0.2);
      assert.deepEqual(
        taken.map((j) => j.id),
        [id],
      );
      let ran = 0;
      startWorker(db, { handlers: { 'test.last-attempt': async () => void ran++ } });
      const dead = await waitForJob(db, id, (r) => r.state === 'dead');

      assert.equal(ran, 0, 'the handler did not run beyond maxAttempts');
      assert.equal(dead.attempts, 2);
      assert.match(dead.last_error ?? '', /stopped before it finished/);
    });
  });

  it('runs each of 200 jobs exactly once when three workers share the queue', {
    timeout: 30_000,
  }, async () => {
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push(await enqueue(db, RECORD_QUEUE, { i }));
    }
    if (backend === 'postgres') {
      const processes = ['p1', 'p2', 'p3'].map((name) =>
        spawnWorkerProcess(name, { ...t.env, EXIT_WHEN_IDLE: '1' }),
      );
      await Promise.all(processes.map((p) => p.waitForLine(/^ready$/)));
      for (const p of processes) {
        p.send('start');
      }
      for (const p of processes) {
        assert.deepEqual(await exitOf(p), { code: 0, signal: null }, `${p.name} exits cleanly`);
      }
    } else {
      for (const name of ['w1', 'w2', 'w3']) {
        startWorker(db, { handlers: { [RECORD_QUEUE]: recordHandler(db, name, 5) } });
      }
      await waitFor(
        'the queue to empty',
        () => countJobs(db),
        (counts) => counts.every((c) => c.queue !== RECORD_QUEUE || c.state === 'done'),
        20_000,
      );
    }

    const runs = await db.query<{ job_id: number; worker: string }>(
      'select job_id, worker from job_test.runs where job_id = any($1::bigint[])',
      [ids],
    );
    assert.equal(runs.rows.length, 200, 'one run per job');
    assert.equal(new Set(runs.rows.map((r) => r.job_id)).size, 200, 'no job ran twice');
    assert.equal(new Set(runs.rows.map((r) => r.worker)).size, 3, 'all three workers took jobs');
    const jobs = await db.query<{ state: string; attempts: number; n: number }>(
      'select state, attempts, count(*)::int as n from platform.jobs where queue = $1 group by state, attempts',
      [RECORD_QUEUE],
    );
    assert.deepEqual(jobs.rows, [{ state: 'done', attempts: 1, n: 200 }]);
  });

  it('does not give a job to another worker while the worker running it renews its lease', async () => {
    const id = await enqueue(db, 'test.lease', {});
    const started = deferred();
    const release = deferred();
    const takenBy: string[] = [];
    const options = { leaseSeconds: 1, pollIntervalMs: 50 };
    startWorker(db, {
      ...options,
      handlers: {
        'test.lease': async (_job, signal) => {
          takenBy.push('slow');
          started.resolve();
          await untilReleased(release.promise, signal);
        },
      },
    });
    await started.promise;
    startWorker(db, { ...options, handlers: { 'test.lease': async () => void takenBy.push('other') } });

    await sleep(2500); // more than two leases
    assert.deepEqual(takenBy, ['slow']);
    release.resolve();
    const done = await waitForJob(db, id, (r) => r.state === 'done');
    assert.equal(done.attempts, 1);
    assert.deepEqual(takenBy, ['slow']);
  });

  describe('tenants', () => {
    it("lets a tenant's code enqueue a job for its own tenant, which a worker runs with that tenant", async () => {
      const id = await db.withTenant(SENDAI, (tx) =>
        enqueue(tx, 'test.tenant-run', { x: 1 }, { tenantId: SENDAI }),
      );
      const seen: Array<string | null> = [];
      startWorker(db, { handlers: { 'test.tenant-run': async (job) => void seen.push(job.tenantId) } });
      await waitForJob(db, id, (r) => r.state === 'done');
      assert.deepEqual(seen, [SENDAI]);
    });

    it("refuses a tenant's job for another tenant or for the platform", async () => {
      await assert.rejects(
        db.withTenant(SENDAI, (tx) => enqueue(tx, 'test.tenant', {}, { tenantId: ISHINOMAKI })),
        /row-level security/,
      );
      await assert.rejects(
        db.withTenant(SENDAI, (tx) => enqueue(tx, 'test.tenant', {})),
        /row-level security/,
      );
      const { rows } = await db.query(`select 1 from platform.jobs where queue = 'test.tenant'`);
      assert.equal(rows.length, 0);
    });

    it("shows a tenant its own jobs only, never another tenant's or the platform's", async () => {
      const sendai = await db.withTenant(SENDAI, (tx) =>
        enqueue(tx, 'test.tenant-see', {}, { tenantId: SENDAI }),
      );
      const ishinomaki = await db.withTenant(ISHINOMAKI, (tx) =>
        enqueue(tx, 'test.tenant-see', {}, { tenantId: ISHINOMAKI }),
      );
      await enqueue(db, 'test.tenant-see', {});

      const visible = await db.withTenant(ISHINOMAKI, (tx) =>
        tx.query<{ id: number }>(`select id from platform.jobs where queue = 'test.tenant-see'`),
      );
      assert.deepEqual(
        visible.rows.map((r) => r.id),
        [ishinomaki],
      );
      const counts = await db.withTenant(SENDAI, (tx) => countJobs(tx));
      assert.deepEqual(
        counts.filter((c) => c.queue === 'test.tenant-see'),
        [{ queue: 'test.tenant-see', state: 'pending', count: 1 }],
      );
      assert.notEqual(sendai, ishinomaki);
    });

    it("lets two tenants use the same idempotency key without blocking or seeing each other's job", async () => {
      const key = { idempotencyKey: 'notice-1' };
      const sendai = await db.withTenant(SENDAI, (tx) =>
        enqueue(tx, 'test.tenant-key', {}, { ...key, tenantId: SENDAI }),
      );
      const ishinomaki = await db.withTenant(ISHINOMAKI, (tx) =>
        enqueue(tx, 'test.tenant-key', {}, { ...key, tenantId: ISHINOMAKI }),
      );
      const again = await db.withTenant(ISHINOMAKI, (tx) =>
        enqueue(tx, 'test.tenant-key', {}, { ...key, tenantId: ISHINOMAKI }),
      );
      assert.notEqual(ishinomaki, sendai);
      assert.equal(again, ishinomaki);
    });

    it('does not let a tenant change jobs, not even its own', async () => {
      const id = await db.withTenant(SENDAI, (tx) =>
        enqueue(tx, 'test.tenant-change', {}, { tenantId: SENDAI }),
      );
      await assert.rejects(
        db.withTenant(SENDAI, (tx) => retryDeadJob(tx, id)),
        /permission denied/,
      );
    });
  });

  describe('stop()', () => {
    it('waits for a running job to finish before it returns', async () => {
      const id = await enqueue(db, 'test.stop', {});
      const started = deferred();
      const release = deferred();
      const worker = startWorker(db, {
        handlers: {
          'test.stop': async (_job, signal) => {
            started.resolve();
            await untilReleased(release.promise, signal);
          },
        },
      });
      await started.promise;

      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      await sleep(200);
      assert.equal(stopped, false, 'stop() is still waiting for the job');
      release.resolve();
      await stopping;
      assert.equal(
        (await jobRow(db, id)).state,
        'done',
        'the job was finished and recorded before stop() returned',
      );
    });

    it('waits for the jobs a poll in flight takes, when called during that poll', async () => {
      const id = await enqueue(db, 'test.stop-poll', {});
      const gated = gateTakes(db);
      let finished = false;
      const worker = startWorker(gated.db, {
        handlers: {
          'test.stop-poll': async () => {
            await sleep(100);
            finished = true;
          },
        },
      });
      await gated.reached;
      const stopping = worker.stop();
      gated.open();
      await stopping;

      assert.equal(finished, true, 'the job ran to its end before stop() returned');
      assert.equal((await jobRow(db, id)).state, 'done');
    });

    it('gives handlers a live abort signal when a worker is started again after stop()', async () => {
      const aborted: boolean[] = [];
      const worker = startWorker(db, {
        handlers: { 'test.restart': async (_job, signal) => void aborted.push(signal.aborted) },
      });
      await worker.stop();
      worker.start();
      const id = await enqueue(db, 'test.restart', {});
      await waitForJob(db, id, (r) => r.state === 'done');
      assert.deepEqual(aborted, [false]);
    });
  });
});

/** A worker process whose handler has started job `id` and hangs there, holding the job's lease. */
async function startDoomedWorker(env: Record<string, string>, id: number): Promise<WorkerProcess> {
  const doomed = spawnWorkerProcess('doomed', { ...env, HOLD: '1' });
  await doomed.waitForLine(/^ready$/);
  doomed.send('start');
  await doomed.waitForLine(new RegExp(`^started ${id} 1$`));
  return doomed;
}

async function killHard(worker: WorkerProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  assert.equal((await exitOf(worker)).signal, 'SIGKILL');
}

/**
 * PostgreSQL: the successor runs beside the doomed worker, leaves the job alone while that worker
 * lives and renews its lease, and takes it once the worker is killed and the lease has run out.
 */
async function killBesideSuccessor(db: Db, env: Record<string, string>, id: number): Promise<WorkerProcess> {
  const doomed = await startDoomedWorker(env, id);
  const successor = spawnWorkerProcess('successor', { ...env, EXIT_WHEN_IDLE: '1' });
  await successor.waitForLine(/^ready$/);
  successor.send('start');
  await sleep(2500); // more than two leases
  const held = await jobRow(db, id);
  assert.equal(held.attempts, 1, 'the job stays with its living worker');
  assert.match(held.locked_by ?? '', new RegExp(`:${doomed.child.pid}:`));
  await killHard(doomed);
  return successor;
}

/** PGlite: one process at a time, so the successor opens the data folder the killed process held. */
async function killThenStartSuccessor(env: Record<string, string>, id: number): Promise<WorkerProcess> {
  await killHard(await startDoomedWorker(env, id));
  const successor = spawnWorkerProcess('successor', { ...env, EXIT_WHEN_IDLE: '1' });
  await successor.waitForLine(/^ready$/);
  successor.send('start');
  return successor;
}

describe(`job queue: a worker killed with SIGKILL in the middle of a job (${backend})`, () => {
  let t: TestDb;
  /** On PGlite, the database reopened after the worker processes are done with it. */
  let reopened: Db | undefined;

  before(async () => {
    t = await createTestDb({ persistent: true });
    await createJobTestTables(t.db);
  });
  after(async () => {
    await killWorkerProcesses();
    await reopened?.close();
    await t?.close();
  });

  it('takes the job again once its lease runs out and finishes it exactly once', {
    timeout: 60_000,
  }, async () => {
    const id = await enqueue(t.db, EFFECT_QUEUE, { noticeId: 1 });
    const env = { ...t.env, LEASE_SECONDS: '1' };
    let successor: WorkerProcess;
    if (backend === 'postgres') {
      successor = await killBesideSuccessor(t.db, env, id);
    } else {
      await t.db.close();
      successor = await killThenStartSuccessor(env, id);
    }
    await successor.waitForLine(new RegExp(`^started ${id} 2$`));
    assert.deepEqual(await exitOf(successor), { code: 0, signal: null });
    reopened = backend === 'pglite' ? await openDb({ dataDir: t.dataDir }) : undefined;
    const db = reopened ?? t.db;

    const done = await jobRow(db, id);
    assert.equal(done.state, 'done');
    assert.equal(done.attempts, 2);
    const effects = await db.query('select worker, attempt from job_test.effects where job_id = $1', [id]);
    assert.deepEqual(effects.rows, [{ worker: 'successor', attempt: 2 }], 'the effect was written once');
  });
});
