/**
 * Verifying the checkpoints of a tenant's access log: each signature with the deployment's public
 * checkpoint key, each payload against its row and the one before (the checkpoints' own chain), each
 * signed root against the heads stored with it, and then that every anchored head is still in the log.
 */
import { compactVerify } from 'jose';
import type { Db } from '../platform/index.ts';
import {
  CHECKPOINT_TYP,
  type Checkpoint,
  type CheckpointPayload,
  type CheckpointVerifier,
  checkpointGenesis,
} from './access-log-checkpoint.ts';
import { canonicalJson, headLeaf, merkleRoot, sha256Hex } from './access-log-hash.ts';
import type { BrokenLink, Counts } from './access-log-verify.ts';

interface HeadRow {
  resident_id: string;
  seq: number;
  hash: string;
}

/** Why a checkpoint's signature or payload does not hold, or undefined when it does. */
async function checkSignedPayload(
  verifier: CheckpointVerifier,
  row: Checkpoint,
  expectedPrev: string,
): Promise<
  { kind: 'checkpoint-signature' | 'checkpoint-payload'; expected: string; found: string } | undefined
> {
  let signed: string;
  try {
    const verified = await compactVerify(row.jws, verifier.publicKey, { algorithms: ['EdDSA'] });
    if (verified.protectedHeader.typ !== CHECKPOINT_TYP) throw new Error('not a checkpoint');
    signed = new TextDecoder().decode(verified.payload);
  } catch {
    return {
      kind: 'checkpoint-signature',
      expected: `signed by ${verifier.kid}`,
      found: 'no valid signature',
    };
  }
  const expected: CheckpointPayload = {
    v: 1,
    tenant: row.tenant,
    seq: row.seq,
    at: row.at.toISOString(),
    prev: expectedPrev,
    root: row.root,
    heads: row.heads,
  };
  // The payload was signed in canonical form: the stored row must canonicalise to the same bytes.
  const stored = canonicalJson({ ...expected });
  return signed === stored ? undefined : { kind: 'checkpoint-payload', expected: stored, found: signed };
}

interface CheckpointRow {
  seq: number;
  at: Date;
  root: string;
  heads: number;
  jws: string;
}

async function checkpointLeaves(db: Db, tenant: string, seq: number): Promise<string[]> {
  const { rows } = await db.withTenant(tenant, (tx) =>
    tx.query<HeadRow>(
      `select resident_id, seq, hash from consent.access_checkpoint_heads
        where tenant_id = $1 and checkpoint_seq = $2 order by resident_id`,
      [tenant, seq],
    ),
  );
  return rows.map((r) => headLeaf({ resident: r.resident_id, seq: Number(r.seq), hash: r.hash }));
}

export async function verifyCheckpoints(
  db: Db,
  verifier: CheckpointVerifier,
  tenant: string,
  counts: Counts,
) {
  const { rows } = await db.withTenant(tenant, (tx) =>
    tx.query<CheckpointRow>(
      'select seq, at, root, heads, jws from consent.access_checkpoints where tenant_id = $1 order by seq',
      [tenant],
    ),
  );
  let prev = checkpointGenesis(tenant);
  for (const [index, row] of rows.entries()) {
    const seq = Number(row.seq);
    const where = { tenant, checkpoint: index + 1 };
    if (seq !== index + 1) {
      return {
        ...where,
        kind: 'checkpoint-missing' as const,
        expected: `checkpoint ${index + 1}`,
        found: `checkpoint ${seq}`,
      };
    }
    const checkpoint = { tenant, seq, at: row.at, root: row.root, heads: Number(row.heads), jws: row.jws };
    const bad = await checkSignedPayload(verifier, checkpoint, prev);
    if (bad) return { ...where, ...bad };
    const leaves = await checkpointLeaves(db, tenant, seq);
    const root = merkleRoot(leaves);
    if (root !== row.root || leaves.length !== checkpoint.heads) {
      return {
        ...where,
        kind: 'checkpoint-heads' as const,
        expected: row.root,
        found: `${root} (${leaves.length} heads)`,
      };
    }
    prev = sha256Hex(row.jws);
    counts.checkpoints += 1;
  }
  return undefined;
}

/** A head a checkpoint signed whose record is gone or holds another hash: a cut or rewritten chain. */
export async function findUnanchored(db: Db, tenant: string): Promise<BrokenLink | undefined> {
  const { rows } = await db.withTenant(tenant, (tx) =>
    tx.query<{
      checkpoint_seq: number;
      resident_id: string;
      seq: number;
      hash: string;
      found: string | null;
    }>(
      `select c.checkpoint_seq, c.resident_id, c.seq, c.hash, l.hash as found
         from consent.access_checkpoint_heads c
         left join consent.access_log l
           on l.tenant_id = c.tenant_id and l.resident_id = c.resident_id and l.seq = c.seq
        where c.tenant_id = $1 and l.hash is distinct from c.hash
        order by c.resident_id, c.seq, c.checkpoint_seq limit 1`,
      [tenant],
    ),
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    kind: 'checkpoint-anchor',
    tenant,
    resident: row.resident_id,
    seq: Number(row.seq),
    checkpoint: Number(row.checkpoint_seq),
    expected: row.hash,
    found: row.found ?? 'no record',
  };
}
