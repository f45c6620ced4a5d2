/**
 * The access log (data tracker): every decision that touched a resident's personal data, allowed or
 * denied, appended to that resident's hash chain in the same transaction as the use it records.
 * Appends for one resident take turns on the chain's head row (`for update`), so processes appending
 * at once never fork a chain. Nothing here updates or deletes a record; the log is personal data and
 * is never written to the process log.
 */
import { BadRequest, type Queryable } from '../platform/index.ts';
import { genesisHash, recordHash, sortedUnique } from './access-log-hash.ts';
import { assertAccountId } from './records.ts';

export const ACCESS_ACTIONS = ['read', 'write', 'delete', 'export'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];
export type AccessDecision = 'allow' | 'deny';

/** Who asked: a service (OIDC client id) or a staff member (account id), with the name shown then. */
export interface AccessActor {
  kind: 'client' | 'staff';
  id: string;
  name: string;
}

/** One decision to record. */
export interface AccessEntry {
  /** The resident's account id. */
  resident: string;
  actor: AccessActor;
  /** The purpose id (may be empty when a staff member stated none and was denied). */
  purpose: string;
  categories: readonly string[];
  /** The NGSI-LD entity ids concerned. */
  entities: readonly string[];
  action: AccessAction;
  decision: AccessDecision;
  /** The decision's reason code (docs/consent.md). */
  reason: string;
}

export interface AccessRecord extends AccessEntry {
  tenant: string;
  seq: number;
  /** Milliseconds, as hashed. */
  at: Date;
  categories: string[];
  entities: string[];
  prevHash: string;
  hash: string;
}

function normaliseEntry(entry: AccessEntry): AccessEntry {
  assertAccountId(entry.resident);
  const { actor } = entry;
  if ((actor.kind !== 'client' && actor.kind !== 'staff') || !actor.id?.trim()) {
    throw new BadRequest('an access is recorded with its actor: a client or staff member and its id');
  }
  if (!ACCESS_ACTIONS.includes(entry.action)) {
    throw new BadRequest(`the action is one of ${ACCESS_ACTIONS.join(', ')}`);
  }
  if (entry.decision !== 'allow' && entry.decision !== 'deny') {
    throw new BadRequest('the decision is allow or deny');
  }
  return {
    ...entry,
    resident: entry.resident.toLowerCase(),
    actor: { kind: actor.kind, id: actor.id, name: actor.name ?? '' },
    purpose: entry.purpose ?? '',
    categories: sortedUnique(entry.categories),
    entities: sortedUnique(entry.entities),
    reason: entry.reason ?? '',
  };
}

interface Head {
  seq: number;
  hash: string;
  at: Date | null;
}

/**
 * Takes the heads of the residents' chains, in resident order, in one statement: an existing head is
 * locked (the no-op update), a missing one is inserted at its chain's genesis (and so held too). Taking
 * every head, old or new, through the same ordered statement is what keeps two batches naming the same
 * residents from deadlocking: a select for existing heads followed by an insert for missing ones would
 * take locks out of order when another batch creates a head in between.
 */
const TAKE_HEADS = `insert into consent.access_log_heads as h (tenant_id, resident_id, seq, hash)
  select $1, r, 0, g from unnest($2::uuid[], $3::text[]) as t(r, g) order by r
  on conflict (tenant_id, resident_id) do update set seq = h.seq
  returning resident_id, seq, hash, at, clock_timestamp() as now`;

/**
 * Locks the heads of the residents' chains (see TAKE_HEADS), starting a chain at its genesis for a
 * resident seen for the first time. Returns the heads and the database's clock.
 */
async function lockHeads(
  tx: Queryable,
  tenant: string,
  residents: string[],
): Promise<{ heads: Map<string, Head>; now: Date }> {
  type Row = { resident_id: string; seq: number; hash: string; at: Date | null; now: Date };
  const { rows } = await tx.query<Row>(
    TAKE_HEADS,
    [tenant, residents, residents.map((r) => genesisHash(tenant, r))],
    { prepare: true },
  );
  const heads = new Map(rows.map((r) => [r.resident_id, { seq: Number(r.seq), hash: r.hash, at: r.at }]));
  const now = rows.reduce<Date | undefined>((late, r) => (late && late > r.now ? late : r.now), undefined);
  return { heads, now: now ?? new Date() };
}

/** The records the entries become, each chained to the one before it of its resident. */
function chain(tenant: string, entries: AccessEntry[], heads: Map<string, Head>, now: Date): AccessRecord[] {
  return entries.map((entry) => {
    const head = heads.get(entry.resident);
    if (!head) {
      throw new Error('the chain head of a resident is not visible in this transaction');
    }
    // Never before the record it follows: the clock may have been read before the lock was granted.
    const at = new Date(Math.max(Math.floor(now.getTime()), head.at?.getTime() ?? 0));
    const seq = head.seq + 1;
    const record: AccessRecord = {
      ...entry,
      tenant,
      seq,
      at,
      categories: [...entry.categories],
      entities: [...entry.entities],
      prevHash: head.hash,
      hash: '',
    };
    record.hash = recordHash({ ...record, at: at.toISOString(), prev: head.hash });
    heads.set(entry.resident, { seq, hash: record.hash, at });
    return record;
  });
}

async function insertRecords(tx: Queryable, tenant: string, records: AccessRecord[]): Promise<void> {
  const rows = records.map((r) => ({
    resident_id: r.resident,
    seq: r.seq,
    at: r.at.toISOString(),
    actor_kind: r.actor.kind,
    actor_id: r.actor.id,
    actor_name: r.actor.name,
    purpose: r.purpose,
    categories: r.categories,
    entity_ids: r.entities,
    action: r.action,
    decision: r.decision,
    reason: r.reason,
    prev_hash: r.prevHash,
    hash: r.hash,
  }));
  await tx.query(
    `with v as (
       select * from jsonb_to_recordset($2::jsonb) as r(
         resident_id uuid, seq bigint, at timestamptz, actor_kind text, actor_id text, actor_name text,
         purpose text, categories text[], entity_ids text[], action text, decision text, reason text,
         prev_hash text, hash text)
     ), added as (
       insert into consent.access_log (tenant_id, resident_id, seq, at, actor_kind, actor_id, actor_name,
                                       purpose, categories, entity_ids, action, decision, reason, prev_hash, hash)
       select $1, resident_id, seq, at, actor_kind, actor_id, actor_name, purpose, categories, entity_ids,
              action, decision, reason, prev_hash, hash
         from v
     )
     update consent.access_log_heads h set seq = last.seq, hash = last.hash, at = last.at
       from (select distinct on (resident_id) resident_id, seq, hash, at from v order by resident_id, seq desc) last
      where h.tenant_id = $1 and h.resident_id = last.resident_id`,
    [tenant, JSON.stringify(rows)],
    { prepare: true },
  );
}

/**
 * Appends decisions to their residents' chains, in the order given, and returns the records.
 * `tx` is a transaction of `tenant` (db.withTenant), the one that uses the data: the record exists
 * exactly when the use does. Call it once per transaction with every resident the transaction
 * concerns, so that its locks are taken in one order.
 */
export async function appendAccessMany(
  tx: Queryable,
  tenant: string,
  entries: readonly AccessEntry[],
): Promise<AccessRecord[]> {
  if (entries.length === 0) return [];
  const normal = entries.map(normaliseEntry);
  const { heads, now } = await lockHeads(tx, tenant, sortedUnique(normal.map((e) => e.resident)));
  const records = chain(tenant, normal, heads, now);
  await insertRecords(tx, tenant, records);
  return records;
}

/** Appends one decision to its resident's chain (see `appendAccessMany`). */
export async function appendAccess(tx: Queryable, tenant: string, entry: AccessEntry): Promise<AccessRecord> {
  const [record] = await appendAccessMany(tx, tenant, [entry]);
  return record as AccessRecord;
}

export interface AccessLogRow {
  tenant_id: string;
  resident_id: string;
  seq: number;
  at: Date;
  actor_kind: 'client' | 'staff';
  actor_id: string;
  actor_name: string;
  purpose: string;
  categories: string[];
  entity_ids: string[];
  action: AccessAction;
  decision: AccessDecision;
  reason: string;
  prev_hash: string;
  hash: string;
}

export function toAccessRecord(r: AccessLogRow): AccessRecord {
  return {
    tenant: r.tenant_id,
    resident: r.resident_id,
    seq: Number(r.seq),
    at: r.at,
    actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name },
    purpose: r.purpose,
    categories: r.categories,
    entities: r.entity_ids,
    action: r.action,
    decision: r.decision,
    reason: r.reason,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface ListOptions {
  /** At most this many (default 50, at most 500). */
  limit?: number | undefined;
  /** Only records before this seq: the cursor of the next page is the last record's seq. */
  before?: number | undefined;
}

/** A resident's log for My Page, newest first. `tx` is a transaction of `tenant`. */
export async function listAccessLog(
  tx: Queryable,
  tenant: string,
  resident: string,
  options: ListOptions = {},
): Promise<AccessRecord[]> {
  assertAccountId(resident);
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new BadRequest('limit is a whole number from 1 to 500');
  }
  if (options.before !== undefined && !(Number.isSafeInteger(options.before) && options.before > 0)) {
    throw new BadRequest('before is the seq of a record');
  }
  const { rows } = await tx.query<AccessLogRow>(
    `select * from consent.access_log
      where tenant_id = $1 and resident_id = $2 and ($3::bigint is null or seq < $3)
      order by seq desc
      limit $4`,
    [tenant, resident.toLowerCase(), options.before ?? null, limit],
  );
  return rows.map(toAccessRecord);
}
