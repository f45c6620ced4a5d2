/**
 * SQL of consent records, their items, the texts shown and the append-only events. Records and
 * events are only ever inserted (the application role may do nothing else to them); a record's state
 * is read from its events and its expiry.
 */
import type { Queryable } from '../platform/index.ts';
import type { ConsentEvent, ConsentRecord, ConsentState, StoredItem } from './types.ts';

/**
 * A record's state at `at` (a SQL expression), from the events of record `r`: a withdrawal or a
 * newer record ends it for good; otherwise it is in force until `expires_at`.
 */
export function stateSql(at: string): string {
  return `(select case
            when bool_or(e.event = 'withdrawn') then 'withdrawn'
            when bool_or(e.event = 'superseded') then 'superseded'
            when bool_or(e.event = 'expired') or r.expires_at <= ${at} then 'expired'
            else 'given' end
       from consent.record_events e where e.tenant_id = r.tenant_id and e.record_id = r.id)`;
}

/**
 * Whether record `r` is in force at `at`: the same rule as `stateSql(at) = 'given'`, written as an
 * anti-join on the event index so that a decision over thousands of records stays one cheap plan.
 */
export function inForceSql(at: string): string {
  return `((r.expires_at is null or r.expires_at > ${at})
      and not exists (select from consent.record_events e
                       where e.tenant_id = r.tenant_id and e.record_id = r.id
                         and e.event in ('withdrawn', 'superseded', 'expired')))`;
}

/**
 * Whether granted item `g` of record `r` covers the current request item `i`: the same controller,
 * and nothing grew since (retention, third-party provision, actions).
 */
export const COVERS_SQL = `(r.controller = i.controller
      and g.retention::interval >= i.retention::interval
      and (g.third_party or not i.third_party)
      and g.actions @> i.actions)`;

/** Stores the text shown, once per tenant, hash and version label. */
export async function insertText(
  tx: Queryable,
  tenant: string,
  text: { sha256: string; version: string; language: string; body: string },
): Promise<void> {
  await tx.query(
    `insert into consent.texts (tenant_id, sha256, version, language, body) values ($1, $2, $3, $4, $5)
     on conflict (tenant_id, sha256, version) do nothing`,
    [tenant, text.sha256, text.version, text.language, text.body],
  );
}

/** A text shown, by hash (and version label: the newest of that hash when none is named). */
export async function selectText(
  tx: Queryable,
  tenant: string,
  sha256: string,
  version?: string,
): Promise<{ sha256: string; version: string; language: string; body: string } | undefined> {
  const { rows } = await tx.query<{ sha256: string; version: string; language: string; body: string }>(
    `select sha256, version, language, body from consent.texts
      where tenant_id = $1 and sha256 = $2 and ($3::text is null or version = $3)
      order by created_at desc, version limit 1`,
    [tenant, sha256, version ?? null],
  );
  return rows[0];
}

/** Appends `superseded` to the resident's records for the client that are still in force. */
export async function supersedeRecords(
  tx: Queryable,
  tenant: string,
  resident: string,
  clientId: string,
): Promise<void> {
  await tx.query(
    `insert into consent.record_events (tenant_id, record_id, event)
     select r.tenant_id, r.id, 'superseded' from consent.records r
      where r.tenant_id = $1 and r.resident_id = $2 and r.client_id = $3 and ${stateSql('now()')} = 'given'`,
    [tenant, resident, clientId],
  );
}

export interface RecordRow {
  resident: string;
  subject: string;
  clientId: string;
  controller: string;
  requestVersion: number;
  textSha256: string;
  textVersion: string;
  method: string;
  expiresAt: Date | null;
  items: StoredItem[];
}

/** Inserts a record, its items and its `given` event; returns the record's id. */
export async function insertRecord(tx: Queryable, tenant: string, rec: RecordRow): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `insert into consent.records (tenant_id, resident_id, subject, client_id, controller, request_version,
                                  text_sha256, text_version, method, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      tenant,
      rec.resident,
      rec.subject,
      rec.clientId,
      rec.controller,
      rec.requestVersion,
      rec.textSha256,
      rec.textVersion,
      rec.method,
      rec.expiresAt,
    ],
  );
  const id = (rows[0] as { id: string }).id;
  await tx.query(
    `insert into consent.record_items (tenant_id, record_id, category, purpose, retention, third_party, actions, legal_basis)
     select $1, $2, i.category, i.purpose, i.retention, i.third_party, string_to_array(i.actions, ','), 'consent'
       from unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[])
            as i (category, purpose, retention, third_party, actions)`,
    [
      tenant,
      id,
      rec.items.map((i) => i.category),
      rec.items.map((i) => i.purpose),
      rec.items.map((i) => i.retention),
      rec.items.map((i) => i.thirdParty),
      rec.items.map((i) => i.actions.join(',')),
    ],
  );
  await tx.query(
    `insert into consent.record_events (tenant_id, record_id, event, at)
     select tenant_id, id, 'given', given_at from consent.records where tenant_id = $1 and id = $2`,
    [tenant, id],
  );
  return id;
}

/**
 * Appends `withdrawn` to the resident's records (one, or every one for a client) that are not
 * withdrawn or superseded yet; returns the records and clients concerned.
 */
export async function insertWithdrawals(
  tx: Queryable,
  tenant: string,
  resident: string,
  target: { consentId?: string | undefined; clientId?: string | undefined },
): Promise<{ id: string; clientId: string }[]> {
  const { rows } = await tx.query<{ id: string; clientId: string }>(
    `with ended as (
       insert into consent.record_events (tenant_id, record_id, event)
       select r.tenant_id, r.id, 'withdrawn' from consent.records r
        where r.tenant_id = $1 and r.resident_id = $2
          and ($3::uuid is null or r.id = $3) and ($4::text is null or r.client_id = $4)
          and ${stateSql('now()')} in ('given', 'expired')
       returning record_id)
     select r.id, r.client_id as "clientId" from consent.records r join ended on ended.record_id = r.id
      where r.tenant_id = $1 order by r.client_id, r.id`,
    [tenant, resident, target.consentId ?? null, target.clientId ?? null],
  );
  return rows;
}

/** Appends `expired` to records whose expiry has passed, for the history; returns how many. */
export async function insertExpiries(tx: Queryable, tenant: string): Promise<number> {
  const { rowCount } = await tx.query(
    `insert into consent.record_events (tenant_id, record_id, event)
     select r.tenant_id, r.id, 'expired' from consent.records r
      where r.tenant_id = $1 and r.expires_at <= now()
        and not exists (select from consent.record_events e
                         where e.tenant_id = r.tenant_id and e.record_id = r.id and e.event <> 'given')`,
    [tenant],
  );
  return rowCount;
}

/** Whether the resident has a record with this id (in any state). */
export async function recordExists(
  tx: Queryable,
  tenant: string,
  resident: string,
  id: string,
): Promise<boolean> {
  const { rows } = await tx.query(
    'select 1 from consent.records where tenant_id = $1 and resident_id = $2 and id = $3',
    [tenant, resident, id],
  );
  return rows.length > 0;
}

type ListedRow = Omit<ConsentRecord, 'state' | 'items' | 'events'> & {
  state: ConsentState;
  items: StoredItem[];
  events: { event: ConsentEvent; at: string }[];
};

/** The resident's records in the tenant, newest first, with their items, events and state now. */
export async function selectRecords(
  tx: Queryable,
  tenant: string,
  resident: string,
): Promise<ConsentRecord[]> {
  const { rows } = await tx.query<ListedRow>(
    `select r.id, r.resident_id as resident, r.subject, r.client_id as "clientId", r.controller,
            r.request_version as "requestVersion", r.text_sha256 as "textSha256",
            r.text_version as "textVersion", r.method, r.given_at as "givenAt", r.expires_at as "expiresAt",
            ${stateSql('now()')} as state,
            coalesce((select json_agg(json_build_object('category', g.category, 'purpose', g.purpose,
                    'retention', g.retention, 'thirdParty', g.third_party, 'actions', g.actions,
                    'legalBasis', g.legal_basis) order by g.category, g.purpose)
               from consent.record_items g where g.tenant_id = r.tenant_id and g.record_id = r.id),
               '[]'::json) as items,
            (select json_agg(json_build_object('event', e.event, 'at', e.at) order by e.at, e.event)
               from consent.record_events e where e.tenant_id = r.tenant_id and e.record_id = r.id) as events
       from consent.records r
      where r.tenant_id = $1 and r.resident_id = $2
      order by r.given_at desc, r.id`,
    [tenant, resident],
  );
  return rows.map((r) => ({ ...r, events: r.events.map((e) => ({ event: e.event, at: new Date(e.at) })) }));
}
