/**
 * Signed checkpoints of the access log. Per tenant, each checkpoint signs (compact JWS, EdDSA) the
 * RFC 6962 Merkle root of the chain heads that moved since the one before, and the SHA-256 of the
 * one before, so checkpoints form a chain of their own. The Ed25519 key is derived from the master
 * key (never stored); its public half can be published, so an auditor can check checkpoints with no
 * secret of Machi's and nobody holding only the public key can forge one.
 *
 * Payload (canonical JSON, access-log-hash.ts): { v: 1, tenant, seq, at, prev, root, heads }, where
 * `prev` is SHA-256(previous checkpoint's compact JWS) or, for seq 1,
 * SHA-256("machi-access-checkpoint:" ‖ tenant), and `heads` the number of leaves under `root`.
 * A leaf is `resident ":" seq ":" hash`, leaves in resident order.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { type Db, listTenants, type Queryable, type SecretBox } from '../platform/index.ts';
import { canonicalJson, headLeaf, merkleRoot, sha256Hex } from './access-log-hash.ts';

const KEY_PURPOSE = 'consent.access-log.checkpoint';
/** The JWS `typ` of a checkpoint. */
export const CHECKPOINT_TYP = 'machi-access-checkpoint+jws';
/** PKCS #8 DER of an Ed25519 private key, up to its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Arbitrary constant: with the tenant code, the advisory lock that serialises a tenant's checkpoints. */
const CHECKPOINT_LOCK = 726_574_560;

export interface CheckpointVerifier {
  kid: string;
  publicKey: KeyObject;
  /** The public key to publish (`use: sig`, `alg: EdDSA`). */
  publicJwk: JWK;
}

export interface CheckpointSigner extends CheckpointVerifier {
  privateKey: KeyObject;
}

/** The deployment's checkpoint key, derived from the master key: the same in every process. */
export async function checkpointSigner(box: SecretBox): Promise<CheckpointSigner> {
  const seed = box.derive(KEY_PURPOSE);
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}

export interface CheckpointPayload {
  v: 1;
  tenant: string;
  seq: number;
  at: string;
  prev: string;
  root: string;
  heads: number;
}

export function checkpointGenesis(tenant: string): string {
  return sha256Hex(`machi-access-checkpoint:${tenant}`);
}

export interface Checkpoint {
  tenant: string;
  seq: number;
  at: Date;
  root: string;
  heads: number;
  jws: string;
}

interface HeadRow {
  resident_id: string;
  seq: number;
  hash: string;
}

async function sign(signer: CheckpointSigner, payload: CheckpointPayload): Promise<string> {
  return new CompactSign(Buffer.from(canonicalJson({ ...payload }), 'utf8'))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: CHECKPOINT_TYP })
    .sign(signer.privateKey);
}

async function storeCheckpoint(tx: Queryable, checkpoint: Checkpoint, heads: HeadRow[]): Promise<void> {
  const { tenant, seq } = checkpoint;
  await tx.query(
    'insert into consent.access_checkpoints (tenant_id, seq, at, root, heads, jws) values ($1, $2, $3, $4, $5, $6)',
    [tenant, seq, checkpoint.at.toISOString(), checkpoint.root, checkpoint.heads, checkpoint.jws],
  );
  const residents = heads.map((h) => h.resident_id);
  const seqs = heads.map((h) => h.seq);
  await tx.query(
    `insert into consent.access_checkpoint_heads (tenant_id, checkpoint_seq, resident_id, seq, hash)
     select $1, $2, r, s, h from unnest($3::uuid[], $4::bigint[], $5::text[]) as t(r, s, h)`,
    [tenant, seq, residents, seqs, heads.map((h) => h.hash)],
  );
  // A head that moved again meanwhile stays ahead of its anchor: the next checkpoint takes it. The
  // heads are locked in resident order first, the order appends take them in, so neither waits on
  // the other in a circle.
  await tx.query(
    `select 1 from consent.access_log_heads
      where tenant_id = $1 and resident_id = any($2::uuid[]) order by resident_id for update`,
    [tenant, residents],
  );
  await tx.query(
    `update consent.access_log_heads h set anchored_seq = t.s
       from unnest($2::uuid[], $3::bigint[]) as t(r, s)
      where h.tenant_id = $1 and h.resident_id = t.r and h.anchored_seq < t.s`,
    [tenant, residents, seqs],
  );
}

/** Signs one tenant's moved heads; nothing when no chain moved since its last checkpoint. */
export async function writeTenantCheckpoint(
  db: Db,
  signer: CheckpointSigner,
  tenant: string,
): Promise<Checkpoint | undefined> {
  return db.withTenant(tenant, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1, $2)', [CHECKPOINT_LOCK, Number(tenant)]);
    const { rows: heads } = await tx.query<HeadRow>(
      `select resident_id, seq, hash from consent.access_log_heads
        where tenant_id = $1 and seq <> anchored_seq
        order by resident_id`,
      [tenant],
    );
    if (heads.length === 0) return undefined;
    const { rows } = await tx.query<{ seq: number; jws: string }>(
      'select seq, jws from consent.access_checkpoints where tenant_id = $1 order by seq desc limit 1',
      [tenant],
    );
    const last = rows[0];
    const payload: CheckpointPayload = {
      v: 1,
      tenant,
      seq: Number(last?.seq ?? 0) + 1,
      at: new Date().toISOString(),
      prev: last ? sha256Hex(last.jws) : checkpointGenesis(tenant),
      root: merkleRoot(
        heads.map((h) => headLeaf({ resident: h.resident_id, seq: Number(h.seq), hash: h.hash })),
      ),
      heads: heads.length,
    };
    const checkpoint: Checkpoint = {
      tenant,
      seq: payload.seq,
      at: new Date(payload.at),
      root: payload.root,
      heads: payload.heads,
      jws: await sign(signer, payload),
    };
    await storeCheckpoint(tx, checkpoint, heads);
    return checkpoint;
  });
}

/** Writes a checkpoint for every tenant (or one) whose chains moved; returns those written. */
export async function writeCheckpoint(
  db: Db,
  signer: CheckpointSigner,
  options: { tenant?: string | undefined } = {},
): Promise<Checkpoint[]> {
  const tenants = options.tenant ? [options.tenant] : (await listTenants(db)).map((t) => t.code);
  const written: Checkpoint[] = [];
  for (const tenant of tenants) {
    const checkpoint = await writeTenantCheckpoint(db, signer, tenant);
    if (checkpoint) written.push(checkpoint);
  }
  return written;
}
