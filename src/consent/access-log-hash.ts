/**
 * The access log's hashes, defined precisely so that anyone can recompute them from a database dump.
 *
 * Canonical JSON (RFC 8785 JCS, for the values used here): objects with their keys sorted by UTF-16
 * code units, no whitespace, strings as `JSON.stringify` writes them, integers in decimal, arrays in
 * order. A record is hashed as the canonical JSON of
 *   { v: 1, tenant, resident, seq, at, actor: { kind, id, name }, purpose, categories, entities,
 *     action, decision, reason, prev }
 * where `resident` is the lower-case UUID, `at` is UTC `YYYY-MM-DDTHH:MM:SS.sssZ` (exactly three
 * fractional digits: the log stores milliseconds), `categories` and `entities` are sorted and unique,
 * and `prev` is the hash of the record before (seq − 1) or, for seq 1, the genesis value
 * SHA-256("machi-access-log:" ‖ tenant ‖ ":" ‖ resident). Hashes are SHA-256 over the UTF-8 bytes,
 * lower-case hex.
 */
import { createHash } from 'node:crypto';

export type Canonical =
  | string
  | number
  | boolean
  | null
  | readonly Canonical[]
  | { [key: string]: Canonical };

/** RFC 8785 canonical JSON of strings, safe integers, booleans, null, arrays and objects. */
export function canonicalJson(value: Canonical): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error('canonical JSON here holds integers only');
  }
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  }
  const object = value as { [key: string]: Canonical };
  const keys = Object.keys(object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k] as Canonical)}`).join(',')}}`;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Where a resident's chain starts: bound to tenant and resident, so no chain can pass for another's. */
export function genesisHash(tenant: string, resident: string): string {
  return sha256Hex(`machi-access-log:${tenant}:${resident.toLowerCase()}`);
}

/** The fields of a record that its hash covers. */
export interface HashedFields {
  tenant: string;
  resident: string;
  seq: number;
  /** UTC, `YYYY-MM-DDTHH:MM:SS.sssZ` (`Date.prototype.toISOString`). */
  at: string;
  actor: { kind: string; id: string; name: string };
  purpose: string;
  categories: readonly string[];
  entities: readonly string[];
  action: string;
  decision: string;
  reason: string;
  prev: string;
}

export function recordHash(r: HashedFields): string {
  return sha256Hex(
    canonicalJson({
      v: 1,
      tenant: r.tenant,
      resident: r.resident,
      seq: r.seq,
      at: r.at,
      actor: { kind: r.actor.kind, id: r.actor.id, name: r.actor.name },
      purpose: r.purpose,
      categories: r.categories,
      entities: r.entities,
      action: r.action,
      decision: r.decision,
      reason: r.reason,
      prev: r.prev,
    }),
  );
}

/** Sorted, without duplicates: the form a list is stored and hashed in. */
export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * The hashed form of a stored time read as PostgreSQL text with microseconds
 * (`YYYY-MM-DDTHH24:MI:SS.US`, UTC): milliseconds when the last three digits are zero, as the log
 * writes them; otherwise all six, which no append ever hashed, so an edited time cannot hide.
 */
export function hashedTime(microsecondText: string): string {
  const match = /^(.*\.\d{3})(\d{3})$/.exec(microsecondText);
  if (!match) return `${microsecondText}Z`;
  return match[2] === '000' ? `${match[1]}Z` : `${microsecondText}Z`;
}

/** The SQL that reads a timestamptz column as `hashedTime` expects it. */
export const microsecondTextSql = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** One anchored head, as a Merkle leaf: `resident ":" seq ":" hash`. */
export function headLeaf(head: { resident: string; seq: number; hash: string }): string {
  return `${head.resident}:${head.seq}:${head.hash}`;
}

/**
 * The Merkle tree hash of RFC 6962 §2.1 (leaf: SHA-256(0x00 ‖ leaf), node: SHA-256(0x01 ‖ l ‖ r),
 * split at the largest power of two below n), over leaves in the order given. A resident can later
 * be shown that their head is under a signed root without seeing anyone else's.
 */
export function merkleRoot(leaves: readonly string[]): string {
  const hashes = leaves.map((leaf) =>
    createHash('sha256')
      .update(Buffer.from([0]))
      .update(leaf)
      .digest(),
  );
  return treeHash(hashes, 0, hashes.length).toString('hex');
}

function treeHash(hashes: Buffer[], from: number, to: number): Buffer {
  const n = to - from;
  if (n === 0) return createHash('sha256').digest();
  if (n === 1) return hashes[from] as Buffer;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(treeHash(hashes, from, from + k))
    .update(treeHash(hashes, from + k, to))
    .digest();
}
