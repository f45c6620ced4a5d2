/**
 * `machi audit verify`: walks every resident's chain and every checkpoint and reports the first
 * broken link. Order, per tenant (by code): chains by resident and seq; records no head reaches;
 * checkpoints by seq (signature, payload, heads); heads a checkpoint anchored that are gone.
 * Each page is read in a transaction of its tenant, so row-level security holds for the verifier too.
 */
import { type Db, listTenants, type SecretBox } from '../platform/index.ts';
import { checkpointSigner } from './access-log-checkpoint.ts';
import { genesisHash, hashedTime, microsecondTextSql, recordHash } from './access-log-hash.ts';
import { findUnanchored, verifyCheckpoints } from './access-log-verify-checkpoints.ts';

export type BrokenKind =
  | 'altered'
  | 'broken-link'
  | 'missing-record'
  | 'head-mismatch'
  | 'unreached-record'
  | 'checkpoint-missing'
  | 'checkpoint-signature'
  | 'checkpoint-payload'
  | 'checkpoint-heads'
  | 'checkpoint-anchor';

export interface BrokenLink {
  kind: BrokenKind;
  tenant: string;
  resident?: string;
  seq?: number;
  checkpoint?: number;
  expected: string;
  found: string;
}

export interface VerifyReport {
  ok: boolean;
  tenants: number;
  chains: number;
  records: number;
  checkpoints: number;
  broken?: BrokenLink;
}

export type Counts = Omit<VerifyReport, 'ok' | 'broken'>;

const HEADS_PAGE = 200;
const RECORDS_PAGE = 2000;

interface HeadRow {
  resident_id: string;
  seq: number;
  hash: string;
}

interface StoredRow extends HeadRow {
  at_text: string;
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
}

/** The records of a page of chains, up to each head as read, in resident and seq order. */
async function* chainRecords(db: Db, tenant: string, heads: HeadRow[]): AsyncGenerator<StoredRow> {
  let after = { resident: '00000000-0000-0000-0000-000000000000', seq: 0 };
  for (;;) {
    const { rows } = await db.withTenant(tenant, (tx) =>
      tx.query<StoredRow>(
        `select l.resident_id, l.seq, ${microsecondTextSql('l.at')} as at_text, l.actor_kind, l.actor_id,
                l.actor_name, l.purpose, l.categories, l.entity_ids, l.action, l.decision, l.reason,
                l.prev_hash, l.hash
           from consent.access_log l
           join unnest($2::uuid[], $3::bigint[]) as h(resident_id, seq)
             on l.resident_id = h.resident_id and l.seq <= h.seq
          where l.tenant_id = $1 and (l.resident_id, l.seq) > ($4::uuid, $5::bigint)
          order by l.resident_id, l.seq
          limit $6`,
        [
          tenant,
          heads.map((h) => h.resident_id),
          heads.map((h) => h.seq),
          after.resident,
          after.seq,
          RECORDS_PAGE,
        ],
      ),
    );
    yield* rows;
    const last = rows.at(-1);
    if (!last || rows.length < RECORDS_PAGE) return;
    after = { resident: last.resident_id, seq: Number(last.seq) };
  }
}

/** The link from `state` (the record before, or genesis) to `row`, or what is wrong with it. */
function checkRecord(tenant: string, state: { seq: number; hash: string }, row: StoredRow) {
  const where = { tenant, resident: row.resident_id };
  const seq = Number(row.seq);
  if (seq !== state.seq + 1) {
    return {
      ...where,
      kind: 'missing-record' as const,
      seq: state.seq + 1,
      expected: `record ${state.seq + 1}, chained from ${state.hash}`,
      found: `record ${seq}`,
    };
  }
  const computed = recordHash({
    tenant,
    resident: row.resident_id,
    seq,
    at: hashedTime(row.at_text),
    actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
    purpose: row.purpose,
    categories: row.categories,
    entities: row.entity_ids,
    action: row.action,
    decision: row.decision,
    reason: row.reason,
    prev: row.prev_hash,
  });
  if (computed !== row.hash)
    return { ...where, kind: 'altered' as const, seq, expected: computed, found: row.hash };
  if (row.prev_hash !== state.hash) {
    return { ...where, kind: 'broken-link' as const, seq, expected: state.hash, found: row.prev_hash };
  }
  return undefined;
}

/** Where a chain walked to does not meet its head. */
function checkEnd(
  tenant: string,
  head: HeadRow,
  state: { seq: number; hash: string },
): BrokenLink | undefined {
  const headSeq = Number(head.seq);
  const where = { tenant, resident: head.resident_id };
  if (state.seq < headSeq) {
    return {
      ...where,
      kind: 'missing-record',
      seq: state.seq + 1,
      expected: `records ${state.seq + 1} to ${headSeq} (head ${head.hash})`,
      found: `the chain ends at record ${state.seq}`,
    };
  }
  if (state.hash !== head.hash) {
    return { ...where, kind: 'head-mismatch', seq: headSeq, expected: head.hash, found: state.hash };
  }
  return undefined;
}

async function verifyPage(db: Db, tenant: string, heads: HeadRow[], counts: Counts) {
  const records = chainRecords(db, tenant, heads);
  let next = await records.next();
  for (const head of heads) {
    let state = { seq: 0, hash: genesisHash(tenant, head.resident_id) };
    while (!next.done && next.value.resident_id === head.resident_id) {
      const broken = checkRecord(tenant, state, next.value);
      if (broken) return broken;
      state = { seq: Number(next.value.seq), hash: next.value.hash };
      counts.records += 1;
      next = await records.next();
    }
    const broken = checkEnd(tenant, head, state);
    if (broken) return broken;
    counts.chains += 1;
  }
  return undefined;
}

async function verifyChains(db: Db, tenant: string, counts: Counts): Promise<BrokenLink | undefined> {
  let after: string | null = null;
  for (;;) {
    const { rows: heads } = await db.withTenant(tenant, (tx) =>
      tx.query<HeadRow>(
        `select resident_id, seq, hash from consent.access_log_heads
          where tenant_id = $1 and seq > 0 and ($2::uuid is null or resident_id > $2)
          order by resident_id limit $3`,
        [tenant, after, HEADS_PAGE],
      ),
    );
    const last = heads.at(-1);
    if (!last) return undefined;
    const broken = await verifyPage(db, tenant, heads, counts);
    if (broken) return broken;
    after = last.resident_id;
  }
}

/** A record that no chain reaches: no head, or past its head (read together, in one snapshot). */
async function findUnreached(db: Db, tenant: string): Promise<BrokenLink | undefined> {
  const { rows } = await db.withTenant(tenant, (tx) =>
    tx.query<{ resident_id: string; seq: number; head_seq: number | null }>(
      `select l.resident_id, min(l.seq) as seq, min(h.seq) as head_seq
         from consent.access_log l
         left join consent.access_log_heads h on h.tenant_id = l.tenant_id and h.resident_id = l.resident_id
        where l.tenant_id = $1 and (h.seq is null or l.seq > h.seq)
        group by l.resident_id order by l.resident_id limit 1`,
      [tenant],
    ),
  );
  const row = rows[0];
  if (!row) return undefined;
  const head = row.head_seq === null ? 'no chain head' : `a chain head at record ${row.head_seq}`;
  return {
    kind: 'unreached-record',
    tenant,
    resident: row.resident_id,
    seq: Number(row.seq),
    expected: head,
    found: `record ${row.seq}`,
  };
}

/** Verifies every tenant's access log (or one tenant's) and reports the first broken link. */
export async function verifyAccessLog(
  db: Db,
  box: SecretBox,
  options: { tenant?: string | undefined } = {},
): Promise<VerifyReport> {
  const verifier = await checkpointSigner(box);
  const tenants = options.tenant ? [options.tenant] : (await listTenants(db)).map((t) => t.code);
  const counts: Counts = { tenants: 0, chains: 0, records: 0, checkpoints: 0 };
  for (const tenant of tenants) {
    counts.tenants += 1;
    const broken =
      (await verifyChains(db, tenant, counts)) ??
      (await findUnreached(db, tenant)) ??
      (await verifyCheckpoints(db, verifier, tenant, counts)) ??
      (await findUnanchored(db, tenant));
    if (broken) return { ok: false, ...counts, broken };
  }
  return { ok: true, ...counts };
}

const WHAT: Record<BrokenKind, string> = {
  altered: 'record altered (its fields no longer give its hash)',
  'broken-link': 'record does not chain from the one before',
  'missing-record': 'record missing',
  'head-mismatch': 'chain head does not match the last record',
  'unreached-record': 'record outside its chain',
  'checkpoint-missing': 'checkpoint missing',
  'checkpoint-signature': 'checkpoint signature does not verify',
  'checkpoint-payload': 'checkpoint differs from what was signed',
  'checkpoint-heads': 'checkpoint heads do not give the signed root',
  'checkpoint-anchor': 'record anchored by a checkpoint is gone or changed',
};

/** One line naming the broken link: where, what, expected and found. */
export function formatBrokenLink(b: BrokenLink): string {
  const where = [
    `tenant ${b.tenant}`,
    b.resident ? `resident ${b.resident}` : '',
    b.seq !== undefined ? `seq ${b.seq}` : '',
    b.checkpoint !== undefined ? `checkpoint ${b.checkpoint}` : '',
  ].filter(Boolean);
  return `${where.join(', ')}: ${WHAT[b.kind]}; expected ${b.expected}, found ${b.found}`;
}
