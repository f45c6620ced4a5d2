import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CompactSign } from 'jose';
import {
  checkpointSigner,
  writeCheckpoint,
  writeTenantCheckpoint,
} from '../../src/consent/access-log-checkpoint.ts';
import { canonicalJson, genesisHash, recordHash } from '../../src/consent/access-log-hash.ts';
import { formatBrokenLink, verifyAccessLog } from '../../src/consent/access-log-verify.ts';
import { type Db, SecretBox } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import { appendSome, box, world } from './access-log-helpers.ts';

interface Row {
  seq: number;
  at: Date;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  purpose: string;
  categories: string[];
  entity_ids: string[];
  action: string;
  decision: string;
  reason: string;
  prev_hash: string;
  hash: string;
}

/** A record as the schema owner (a DBA) sees it, row-level security or not. */
async function row(db: Db, tenant: string, resident: string, seq: number): Promise<Row> {
  const { rows } = await db.query<Row>(
    'select * from consent.access_log where tenant_id = $1 and resident_id = $2 and seq = $3',
    [tenant, resident, seq],
  );
  assert.ok(rows[0]);
  return rows[0];
}

function hashOf(tenant: string, resident: string, r: Row, prev: string): string {
  return recordHash({
    tenant,
    resident,
    seq: Number(r.seq),
    at: r.at.toISOString(),
    actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
    purpose: r.purpose,
    categories: r.categories,
    entities: r.entity_ids,
    action: r.action,
    decision: r.decision,
    reason: r.reason,
    prev,
  });
}

describe(`access log: verification finds tampering (${backend})`, () => {
  let t: TestDb;
  let db: Db;
  const verify = (tenant: string) => verifyAccessLog(db, box, { tenant });
  before(async () => {
    t = await createTestDb();
    db = t.db;
  });
  after(() => t.close());

  it('verifies intact chains and the checkpoints that anchor them', async () => {
    const { tenant, first } = await world(db);
    const signer = await checkpointSigner(box);
    assert.equal((await writeCheckpoint(db, signer, { tenant }))[0]?.heads, 2);
    await appendSome(db, tenant, first, 2);
    const second = await writeTenantCheckpoint(db, signer, tenant);
    assert.equal(second?.heads, 1, 'only the chain that moved');
    assert.equal(await writeTenantCheckpoint(db, signer, tenant), undefined, 'nothing moved since');
    const report = await verify(tenant);
    assert.deepEqual(report, { ok: true, tenants: 1, chains: 2, records: 12, checkpoints: 2 });
  });

  it('finds a record a DBA altered, at its exact seq', async () => {
    const { tenant, first } = await world(db);
    const before = await row(db, tenant, first, 3);
    await db.query(
      `update consent.access_log set purpose = 'marketing' where tenant_id = $1 and resident_id = $2 and seq = 3`,
      [tenant, first],
    );
    const { ok, broken } = await verify(tenant);
    assert.equal(ok, false);
    assert.equal(broken?.kind, 'altered');
    assert.equal(broken?.resident, first);
    assert.equal(broken?.seq, 3);
    assert.equal(broken?.found, before.hash);
    assert.equal(
      broken?.expected,
      hashOf(tenant, first, { ...before, purpose: 'marketing' }, before.prev_hash),
    );
  });

  it('finds a time moved by one millisecond', async () => {
    const { tenant, second } = await world(db);
    await db.query(
      `update consent.access_log set at = at + interval '1 millisecond'
        where tenant_id = $1 and resident_id = $2 and seq = 4`,
      [tenant, second],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['altered', second, 4]);
  });

  it('finds a time moved by one microsecond by a DBA who first dropped the millisecond check', async () => {
    const { tenant, first } = await world(db);
    await db.exec('alter table consent.access_log drop constraint access_log_at_check');
    await db.query(
      `update consent.access_log set at = at + interval '1 microsecond'
        where tenant_id = $1 and resident_id = $2 and seq = 2`,
      [tenant, first],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['altered', first, 2]);
  });

  it('finds a record deleted from the middle of a chain', async () => {
    const { tenant, second } = await world(db);
    await db.query('delete from consent.access_log where tenant_id = $1 and resident_id = $2 and seq = 3', [
      tenant,
      second,
    ]);
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['missing-record', second, 3]);
  });

  it('finds a forged record whose hash is its own but whose link is not', async () => {
    const { tenant, first } = await world(db);
    const original = await row(db, tenant, first, 3);
    const forgedPrev = randomBytes(32).toString('hex');
    const forged = { ...original, reason: 'declared-basis', prev_hash: forgedPrev };
    await db.query(
      `update consent.access_log set reason = $4, prev_hash = $5, hash = $6
        where tenant_id = $1 and resident_id = $2 and seq = $3`,
      [tenant, first, 3, forged.reason, forgedPrev, hashOf(tenant, first, forged, forgedPrev)],
    );
    const { broken } = await verify(tenant);
    const link2 = (await row(db, tenant, first, 2)).hash;
    assert.deepEqual(
      [broken?.kind, broken?.resident, broken?.seq, broken?.expected, broken?.found],
      ['broken-link', first, 3, link2, forgedPrev],
    );
  });

  it('finds a tail cut off after a checkpoint, even when the head was moved back to match', async () => {
    const { tenant, first } = await world(db);
    await writeCheckpoint(db, await checkpointSigner(box), { tenant });
    const anchored = await row(db, tenant, first, 5);
    const third = await row(db, tenant, first, 3);
    await db.query('delete from consent.access_log where tenant_id = $1 and resident_id = $2 and seq > 3', [
      tenant,
      first,
    ]);
    await db.query(
      'update consent.access_log_heads set seq = 3, hash = $3 where tenant_id = $1 and resident_id = $2',
      [tenant, first, third.hash],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual(
      [broken?.kind, broken?.resident, broken?.seq, broken?.checkpoint, broken?.expected, broken?.found],
      ['checkpoint-anchor', first, 5, 1, anchored.hash, 'no record'],
    );
  });

  it('finds a cut tail whose head still names it, before any checkpoint', async () => {
    const { tenant, second } = await world(db);
    await db.query('delete from consent.access_log where tenant_id = $1 and resident_id = $2 and seq = 5', [
      tenant,
      second,
    ]);
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['missing-record', second, 5]);
  });

  it('finds a chain rewritten from its genesis, hashes and head included, by its checkpoint', async () => {
    const { tenant, first } = await world(db);
    await writeCheckpoint(db, await checkpointSigner(box), { tenant });
    let prev = genesisHash(tenant, first);
    for (let seq = 1; seq <= 5; seq++) {
      const r = { ...(await row(db, tenant, first, seq)), purpose: 'marketing' };
      const hash = hashOf(tenant, first, r, prev);
      await db.query(
        `update consent.access_log set purpose = 'marketing', prev_hash = $4, hash = $5
          where tenant_id = $1 and resident_id = $2 and seq = $3`,
        [tenant, first, seq, prev, hash],
      );
      prev = hash;
    }
    await db.query(
      'update consent.access_log_heads set hash = $3 where tenant_id = $1 and resident_id = $2',
      [tenant, first, prev],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual(
      [broken?.kind, broken?.resident, broken?.seq, broken?.found],
      ['checkpoint-anchor', first, 5, prev],
    );
  });

  it('finds a record slipped in past the head of its chain', async () => {
    const { tenant, first } = await world(db);
    const last = await row(db, tenant, first, 5);
    const extra = { ...last, seq: 6 };
    await db.query(
      `insert into consent.access_log select tenant_id, resident_id, 6, at, actor_kind, actor_id, actor_name, purpose,
              categories, entity_ids, action, decision, reason, $3, $4
         from consent.access_log where tenant_id = $1 and resident_id = $2 and seq = 5`,
      [tenant, first, last.hash, hashOf(tenant, first, extra, last.hash)],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.resident, broken?.seq], ['unreached-record', first, 6]);
  });

  it('finds a checkpoint signed with another key', async () => {
    const { tenant } = await world(db);
    const stranger = await checkpointSigner(new SecretBox(randomBytes(32)));
    await writeCheckpoint(db, stranger, { tenant });
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.checkpoint], ['checkpoint-signature', 1]);
    assert.match(
      formatBrokenLink(broken ?? assert.fail()),
      /checkpoint 1: checkpoint signature does not verify/,
    );
  });

  it('finds a checkpoint whose stored heads differ from the root it signed', async () => {
    const { tenant, first } = await world(db);
    await writeCheckpoint(db, await checkpointSigner(box), { tenant });
    await db.query(
      `update consent.access_checkpoint_heads set seq = 4, hash = $3 where tenant_id = $1 and resident_id = $2`,
      [tenant, first, (await row(db, tenant, first, 4)).hash],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.checkpoint], ['checkpoint-heads', 1]);
  });

  it('finds a checkpoint re-signed by a DBA without the key, or taken out of the chain', async () => {
    const { tenant, first } = await world(db);
    const signer = await checkpointSigner(box);
    await writeCheckpoint(db, signer, { tenant });
    await appendSome(db, tenant, first, 1);
    await writeCheckpoint(db, signer, { tenant });
    // A payload changed under an unchanged signature part: the signature no longer verifies.
    const { rows } = await db.query<{ jws: string }>(
      'select jws from consent.access_checkpoints where tenant_id = $1 and seq = 2',
      [tenant],
    );
    const [header, , signature] = (rows[0]?.jws ?? '').split('.');
    const fake = Buffer.from(
      canonicalJson({ v: 1, tenant, seq: 2, at: 'x', prev: 'y', root: 'z', heads: 1 }),
    );
    await db.query('update consent.access_checkpoints set jws = $2 where tenant_id = $1 and seq = 2', [
      tenant,
      `${header}.${fake.toString('base64url')}.${signature}`,
    ]);
    assert.equal((await verify(tenant)).broken?.kind, 'checkpoint-signature');
    // Removing the first checkpoint (and its heads) breaks the checkpoints' own chain.
    await db.query('update consent.access_checkpoints set jws = $2 where tenant_id = $1 and seq = 2', [
      tenant,
      rows[0]?.jws,
    ]);
    await db.query(
      'delete from consent.access_checkpoint_heads where tenant_id = $1 and checkpoint_seq = 1',
      [tenant],
    );
    await db.query('delete from consent.access_checkpoints where tenant_id = $1 and seq = 1', [tenant]);
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.checkpoint], ['checkpoint-missing', 1]);
  });

  it('finds a forged checkpoint that chains from nothing it follows', async () => {
    const { tenant } = await world(db);
    const signer = await checkpointSigner(box);
    // Even with the key: a checkpoint must name the one before it (here, the genesis).
    const payload = {
      v: 1,
      tenant,
      seq: 1,
      at: new Date().toISOString(),
      prev: 'f'.repeat(64),
      root: 'a'.repeat(64),
      heads: 1,
    };
    const jws = await new CompactSign(Buffer.from(canonicalJson(payload)))
      .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: 'machi-access-checkpoint+jws' })
      .sign(signer.privateKey);
    await db.query(
      'insert into consent.access_checkpoints (tenant_id, seq, at, root, heads, jws) values ($1, 1, $2, $3, 1, $4)',
      [tenant, payload.at, payload.root, jws],
    );
    const { broken } = await verify(tenant);
    assert.deepEqual([broken?.kind, broken?.checkpoint], ['checkpoint-payload', 1]);
  });
});
