import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { checkpointSigner, writeCheckpoint } from '../../src/consent/access-log-checkpoint.ts';
import {
  CHECKPOINT_QUEUE,
  checkpointJobHandlers,
  startCheckpoints,
} from '../../src/consent/access-log-jobs.ts';
import { verifyAccessLog } from '../../src/consent/access-log-verify.ts';
import type { Db, Job } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import { appendBatch, box, entry, freshTenant, world } from './access-log-helpers.ts';

describe(`access log: checkpoints and long logs (${backend})`, () => {
  let t: TestDb;
  let db: Db;
  before(async () => {
    t = await createTestDb();
    db = t.db;
  });
  after(() => t.close());

  it('signs checkpoints an auditor can check with the published public key alone', async () => {
    const { tenant } = await world(db);
    const signer = await checkpointSigner(box);
    assert.deepEqual(await checkpointSigner(box).then((s) => s.publicJwk), signer.publicJwk, 'stable');
    assert.equal(signer.publicJwk.d, undefined, 'no private part');
    const [checkpoint] = await writeCheckpoint(db, signer, { tenant });
    const publicKey = await importJWK(signer.publicJwk, 'EdDSA');
    const { payload, protectedHeader } = await compactVerify(checkpoint?.jws ?? '', publicKey);
    assert.equal(protectedHeader.kid, signer.kid);
    const signed = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(signed.tenant, tenant);
    assert.equal(signed.seq, 1);
    assert.equal(signed.heads, 2);
    assert.equal(signed.root, checkpoint?.root);
  });

  it('queues one checkpoint job per period however often it is started, and each job queues the next', async () => {
    const jobs = () =>
      db.query<{ run_at: Date; payload: { due: string } }>(
        'select run_at, payload from platform.jobs where queue = $1 order by run_at',
        [CHECKPOINT_QUEUE],
      );
    await startCheckpoints(db, 60);
    await startCheckpoints(db, 60);
    const first = (await jobs()).rows;
    assert.equal(first.length, 1);
    const due = new Date(first[0]?.payload.due ?? '');
    assert.equal(due.getTime() % 60_000, 0);
    const { tenant } = await world(db, 1);
    const handler = checkpointJobHandlers(db, box, 60)[CHECKPOINT_QUEUE];
    const job = { id: 0, queue: CHECKPOINT_QUEUE, tenantId: null, payload: { due: due.toISOString() } };
    await handler?.({ ...job, attempts: 1, maxAttempts: 3 } as Job, new AbortController().signal);
    const later = (await jobs()).rows;
    assert.equal(later.length, 2);
    assert.ok((later[1]?.run_at.getTime() ?? 0) > due.getTime());
    const { rows } = await db.withTenant(tenant, (tx) =>
      tx.query('select seq from consent.access_checkpoints'),
    );
    assert.equal(rows.length, 1);
  });

  it('walks chains longer than a page and more residents than a page, and still names the exact seq', async () => {
    const tenant = await freshTenant(db);
    const long = randomUUID();
    await appendBatch(
      db,
      tenant,
      Array.from({ length: 2100 }, () => entry(long)),
    );
    const many = Array.from({ length: 230 }, () => randomUUID());
    await appendBatch(
      db,
      tenant,
      many.map((r) => entry(r)),
    );
    await writeCheckpoint(db, await checkpointSigner(box), { tenant });
    const report = await verifyAccessLog(db, box, { tenant });
    assert.deepEqual(report, { ok: true, tenants: 1, chains: 231, records: 2330, checkpoints: 1 });
    await db.query(
      `update consent.access_log set reason = 'x' where tenant_id = $1 and resident_id = $2 and seq = 2050`,
      [tenant, long],
    );
    const { broken } = await verifyAccessLog(db, box, { tenant });
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['altered', long, 2050]);
  });
});
