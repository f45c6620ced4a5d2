/**
 * The resident's rights under 個人情報保護法, the parts this capability keeps: the record of each
 * request (開示 disclosure, 利用停止 stop of use, 消去 erasure), what a law requires a tenant to
 * keep through an erasure (legal holds), and the record of provisions to third parties
 * (第三者提供記録), read from the access log and the service requests in force at the time.
 */
import { BadRequest, type Queryable } from '../platform/index.ts';
import { shortName } from './catalogue.ts';
import { assertAccountId } from './records.ts';

export const RESIDENT_REQUESTS = ['disclosure', 'stop', 'erasure'] as const;
export type ResidentRequestKind = (typeof RESIDENT_REQUESTS)[number];

export interface ResidentRequest {
  id: string;
  kind: ResidentRequestKind;
  clientId: string | null;
  requestedAt: Date;
  outcome: Record<string, unknown>;
}

/** Records a request the resident made and what was done about it; in the same transaction as the doing. */
export async function recordResidentRequest(
  tx: Queryable,
  tenant: string,
  input: { resident: string; kind: ResidentRequestKind; clientId?: string; outcome: Record<string, unknown> },
): Promise<ResidentRequest> {
  assertAccountId(input.resident);
  if (!RESIDENT_REQUESTS.includes(input.kind)) {
    throw new BadRequest(`a request is one of ${RESIDENT_REQUESTS.join(', ')}`);
  }
  const { rows } = await tx.query<{ id: string; requested_at: Date }>(
    `insert into consent.resident_requests (tenant_id, resident_id, kind, client_id, outcome)
     values ($1, $2, $3, $4, $5) returning id, requested_at`,
    [tenant, input.resident, input.kind, input.clientId ?? null, JSON.stringify(input.outcome)],
  );
  const row = rows[0] as { id: string; requested_at: Date };
  return {
    id: row.id,
    kind: input.kind,
    clientId: input.clientId ?? null,
    requestedAt: row.requested_at,
    outcome: input.outcome,
  };
}

/** The resident's requests in the tenant, newest first. */
export async function listResidentRequests(
  tx: Queryable,
  tenant: string,
  resident: string,
): Promise<ResidentRequest[]> {
  assertAccountId(resident);
  const { rows } = await tx.query<{
    id: string;
    kind: ResidentRequestKind;
    client_id: string | null;
    requested_at: Date;
    outcome: Record<string, unknown>;
  }>(
    `select id, kind, client_id, requested_at, outcome from consent.resident_requests
      where tenant_id = $1 and resident_id = $2 order by requested_at desc, id`,
    [tenant, resident],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    clientId: r.client_id,
    requestedAt: r.requested_at,
    outcome: r.outcome,
  }));
}

/** A law that keeps entities of a type through an erasure, for a period from their creation. */
export interface LegalHold {
  /** The entity type, as a short name or an expanded IRI (like category mappings). */
  entityType: string;
  lawJa: string;
  lawEn: string;
  /** ISO 8601 duration (`P5Y`). */
  period: string;
}

const PERIOD = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/;

/** Sets the law that keeps a type's entities (replacing the one before). */
export async function defineLegalHold(tx: Queryable, tenant: string, hold: LegalHold): Promise<void> {
  if (!hold.entityType.trim() || !hold.lawJa.trim() || !hold.lawEn.trim()) {
    throw new BadRequest('a legal hold names the entity type and the law, in Japanese and English');
  }
  if (!PERIOD.test(hold.period)) {
    throw new BadRequest(
      `the period ${hold.period} is not an ISO 8601 duration in years, months, weeks or days (P5Y)`,
    );
  }
  await tx.query(
    `insert into consent.legal_holds (tenant_id, entity_type, law_ja, law_en, period)
     values ($1, $2, $3, $4, $5)
     on conflict (tenant_id, entity_type) do update
       set law_ja = excluded.law_ja, law_en = excluded.law_en, period = excluded.period`,
    [tenant, hold.entityType, hold.lawJa, hold.lawEn, hold.period],
  );
}

/** Why an entity is kept: the law, and until when. */
export interface Held {
  lawJa: string;
  lawEn: string;
  until: Date;
}

/**
 * Which of these entities a law keeps now: a hold on one of its types whose period, counted from
 * the entity's creation, has not run out. A type matches by IRI or by short name.
 */
export async function heldEntities(
  tx: Queryable,
  tenant: string,
  entities: readonly { id: string; types: readonly string[]; createdAt: string }[],
): Promise<Map<string, Held>> {
  const held = new Map<string, Held>();
  if (entities.length === 0) return held;
  const ids: string[] = [];
  const types: string[] = [];
  const created: string[] = [];
  for (const e of entities) {
    for (const type of new Set(e.types.flatMap((t) => [t, shortName(t)]))) {
      ids.push(e.id);
      types.push(type);
      created.push(e.createdAt);
    }
  }
  const { rows } = await tx.query<{ id: string; law_ja: string; law_en: string; until: Date }>(
    `select e.id, h.law_ja, h.law_en, e.created::timestamptz + h.period::interval as until
       from unnest($2::text[], $3::text[], $4::text[]) as e (id, type, created)
       join consent.legal_holds h on h.tenant_id = $1 and h.entity_type = e.type
      where e.created::timestamptz + h.period::interval > now()
      order by until desc`,
    [tenant, ids, types, created],
  );
  for (const r of rows) {
    if (!held.has(r.id)) held.set(r.id, { lawJa: r.law_ja, lawEn: r.law_en, until: r.until });
  }
  return held;
}

/** One provision of the resident's data to a third party (個人情報保護法 第29条 の記録). */
export interface Provision {
  at: Date;
  clientId: string;
  /** The service's name at the time. */
  recipient: string;
  /** The operator (controller) named in the request in force then. */
  controller: string;
  purpose: string;
  categories: string[];
  entities: string[];
}

/**
 * The provisions to third parties: every allowed use by a service of an item its request in force
 * at that moment declared a third-party provision, newest first.
 */
export async function thirdPartyProvisions(
  tx: Queryable,
  tenant: string,
  resident: string,
): Promise<Provision[]> {
  assertAccountId(resident);
  const { rows } = await tx.query<{
    at: Date;
    actor_id: string;
    actor_name: string;
    controller: string;
    purpose: string;
    categories: string[];
    entity_ids: string[];
  }>(
    `select l.at, l.actor_id, l.actor_name, r.controller, l.purpose,
            array(select i.category from consent.request_items i
                   where i.tenant_id = r.tenant_id and i.client_id = r.client_id and i.version = r.version
                     and i.third_party and i.purpose = l.purpose and i.category = any(l.categories)
                   order by i.category) as categories,
            l.entity_ids
       from consent.access_log l
       join lateral (
         select s.tenant_id, s.client_id, s.version, s.controller from consent.service_requests s
          where s.tenant_id = l.tenant_id and s.client_id = l.actor_id and s.created_at <= l.at
          order by s.version desc limit 1) r on true
      where l.tenant_id = $1 and l.resident_id = $2 and l.actor_kind = 'client' and l.decision = 'allow'
        and exists (select from consent.request_items i
                     where i.tenant_id = r.tenant_id and i.client_id = r.client_id and i.version = r.version
                       and i.third_party and i.purpose = l.purpose and i.category = any(l.categories))
      order by l.seq desc`,
    [tenant, resident],
  );
  return rows.map((r) => ({
    at: r.at,
    clientId: r.actor_id,
    recipient: r.actor_name,
    controller: r.controller,
    purpose: r.purpose,
    categories: r.categories,
    entities: r.entity_ids,
  }));
}
