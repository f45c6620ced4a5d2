import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { appendAccess, listAccessLog } from '../../src/consent/access-log.ts';
import {
  genesisHash,
  hashedTime,
  microsecondTextSql,
  recordHash,
} from '../../src/consent/access-log-hash.ts';
import { verifyAccessLog } from '../../src/consent/access-log-verify.ts';
import { openDb } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import { appendBatch, appendSome, box, entry, freshTenant } from './access-log-helpers.ts';

describe(`access log: appending and reading (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  it('starts a chain at the genesis of tenant and resident and links each record to the one before', async () => {
    const tenant = await freshTenant(t.db);
    const resident = randomUUID();
    const records = await appendSome(t.db, tenant, resident, 4);
    assert.deepEqual(
      records.map((r) => r.seq),
      [1, 2, 3, 4],
    );
    assert.equal(records[0]?.prevHash, genesisHash(tenant, resident));
    for (const [i, r] of records.entries()) {
      if (i > 0) assert.equal(r.prevHash, records[i - 1]?.hash);
      assert.equal(r.hash, recordHash({ ...r, at: r.at.toISOString(), prev: r.prevHash }));
    }
    const report = await verifyAccessLog(t.db, box, { tenant });
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.chains, 1);
    assert.equal(report.records, 4);
  });

  it('stores exactly the time it hashed, and lists a resident’s log newest first, page by page', async () => {
    const tenant = await freshTenant(t.db);
    const resident = randomUUID();
    const written = await appendSome(t.db, tenant, resident, 5);
    const firstPage = await t.db.withTenant(tenant, (tx) =>
      listAccessLog(tx, tenant, resident, { limit: 3 }),
    );
    assert.deepEqual(
      firstPage.map((r) => r.seq),
      [5, 4, 3],
    );
    assert.deepEqual(firstPage[0], written[4]);
    const stored = await t.db.withTenant(tenant, (tx) =>
      tx.query<{ at: string }>(
        `select ${microsecondTextSql('at')} as at from consent.access_log where resident_id = $1 order by seq`,
        [resident],
      ),
    );
    assert.deepEqual(
      stored.rows.map((r) => hashedTime(r.at)),
      written.map((r) => r.at.toISOString()),
    );
    const secondPage = await t.db.withTenant(tenant, (tx) =>
      listAccessLog(tx, tenant, resident, { limit: 3, before: firstPage.at(-1)?.seq }),
    );
    assert.deepEqual(
      secondPage.map((r) => r.seq),
      [2, 1],
    );
  });

  it('appends a batch for many residents in one transaction, each record on its own chain', async () => {
    const tenant = await freshTenant(t.db);
    const [a, b] = [randomUUID(), randomUUID()];
    await appendSome(t.db, tenant, a, 2);
    const records = await appendBatch(t.db, tenant, [entry(b), entry(a), entry(b, { action: 'write' })]);
    assert.deepEqual(
      records.map((r) => [r.resident, r.seq]),
      [
        [b, 1],
        [a, 3],
        [b, 2],
      ],
    );
    assert.equal(records[2]?.prevHash, records[0]?.hash);
    assert.equal((await verifyAccessLog(t.db, box, { tenant })).ok, true);
  });

  it('keeps categories and entity ids sorted and unique, as they are hashed', async () => {
    const tenant = await freshTenant(t.db);
    const resident = randomUUID();
    const record = await t.db.withTenant(tenant, (tx) =>
      appendAccess(tx, tenant, entry(resident, { categories: ['vaccination', 'household', 'vaccination'] })),
    );
    assert.deepEqual(record.categories, ['household', 'vaccination']);
    const [listed] = await t.db.withTenant(tenant, (tx) => listAccessLog(tx, tenant, resident));
    assert.deepEqual(listed?.categories, ['household', 'vaccination']);
  });

  it('refuses an entry without an account id, an actor or a known action', async () => {
    const tenant = await freshTenant(t.db);
    const append = (over: Parameters<typeof entry>[1], resident: string = randomUUID()) =>
      t.db.withTenant(tenant, (tx) => appendAccess(tx, tenant, entry(resident, over)));
    await assert.rejects(append({}, 'someone'), /account id/);
    await assert.rejects(append({ actor: { kind: 'client', id: ' ', name: 'x' } }), /actor/);
    await assert.rejects(append({ action: 'peek' as 'read' }), /action/);
    await assert.rejects(append({ decision: 'maybe' as 'allow' }), /allow or deny/);
  });

  it('lets the application role add and read records but never change or remove them', async () => {
    const tenant = await freshTenant(t.db);
    const resident = randomUUID();
    await appendSome(t.db, tenant, resident, 2);
    for (const sql of [
      `update consent.access_log set reason = 'x'`,
      'delete from consent.access_log',
      'delete from consent.access_log_heads',
      `update consent.access_checkpoints set root = 'x'`,
      'delete from consent.access_checkpoint_heads',
    ]) {
      await assert.rejects(
        t.db.withTenant(tenant, (tx) => tx.query(sql)),
        /permission denied/,
        sql,
      );
    }
  });

  it('shows a tenant only its own residents’ logs and refuses a record for another tenant', async () => {
    const [mine, theirs] = [await freshTenant(t.db), await freshTenant(t.db)];
    const resident = randomUUID();
    await appendSome(t.db, mine, resident, 1);
    const seen = await t.db.withTenant(theirs, (tx) => listAccessLog(tx, mine, resident));
    assert.deepEqual(seen, []);
    const count = await t.db.withTenant(theirs, (tx) => tx.query('select * from consent.access_log_heads'));
    assert.equal(count.rows.length, 0);
    await assert.rejects(t.db.withTenant(theirs, (tx) => appendAccess(tx, mine, entry(resident))));
  });

  it('keeps one chain when many transactions append for the same residents at once', async () => {
    const tenant = await freshTenant(t.db);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // On PostgreSQL a second pool stands for a second API process.
    const other = t.databaseUrl ? await openDb({ databaseUrl: t.databaseUrl, poolSize: 5 }) : t.db;
    try {
      const jobs = Array.from({ length: 40 }, (_, i) => {
        const db = i % 2 === 0 ? t.db : other;
        // Batches name the residents in different orders: the locks must still not deadlock.
        const batch =
          i % 4 === 0 ? [entry(c), entry(a)] : i % 4 === 1 ? [entry(a), entry(b), entry(c)] : [entry(b)];
        return appendBatch(db, tenant, batch);
      });
      await Promise.all(jobs);
    } finally {
      if (other !== t.db) await other.close();
    }
    for (const [resident, count] of [
      [a, 20],
      [b, 30],
      [c, 20],
    ] as const) {
      const log = await t.db.withTenant(tenant, (tx) => listAccessLog(tx, tenant, resident, { limit: 500 }));
      assert.deepEqual(
        log.map((r) => r.seq),
        Array.from({ length: count }, (_, i) => count - i),
      );
    }
    const report = await verifyAccessLog(t.db, box, { tenant });
    assert.equal(report.ok, true, JSON.stringify(report.broken));
    assert.equal(report.records, 70);
  });
});
