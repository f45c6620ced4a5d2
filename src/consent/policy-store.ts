/**
 * The SQL of the policy decision point. Each decision is one statement, read afresh on every call:
 * nothing is cached, so a withdrawal committed a moment ago already counts.
 */
import type { Queryable } from '../platform/index.ts';
import { COVERS_SQL, inForceSql, stateSql } from './record-store.ts';
import type { LegalBasis } from './types.ts';

/**
 * The current request item of client $2 for category $3 and purpose $4 in tenant $1, with its
 * effective basis: 要配慮個人情報 needs consent unless the municipality itself processes it as a
 * statutory duty, whatever a row says (requests.ts `effectiveBasis`, the same rule).
 */
const ITEM_CTE = `
  req as (
    select version, controller, controller_kind from consent.service_requests
     where tenant_id = $1 and client_id = $2 order by version desc limit 1),
  i as (
    select ri.category, ri.purpose, ri.retention, ri.third_party, ri.actions, req.controller,
           case when c.sensitive and not (req.controller_kind = 'municipality' and ri.legal_basis = 'statutory-duty')
                then 'consent' else ri.legal_basis end as basis
      from req
      join consent.request_items ri on ri.tenant_id = $1 and ri.client_id = $2 and ri.version = req.version
      join consent.categories c on c.code = ri.category
     where ri.category = $3 and ri.purpose = $4)`;

/** What every client decision starts from. */
const HEAD = `
  select current_setting('machi.tenant_id', true) is not distinct from $1 as "inTenant",
         exists (select from consent.categories where code = $3) as "categoryKnown",
         exists (select from req) as "hasRequest",
         i.basis, $5 = any(i.actions) as "actionOk"`;

export interface ItemFacts {
  inTenant: boolean;
  categoryKnown: boolean;
  hasRequest: boolean;
  /** Null when the current request has no item for the category and purpose. */
  basis: LegalBasis | null;
  actionOk: boolean | null;
}

export interface ClientFacts extends ItemFacts {
  /** The best record of the resident for this item: one in force that covers it, else the newest. */
  recordId: string | null;
  covers: boolean | null;
  state: string | null;
}

export interface ClientQuery {
  tenant: string;
  clientId: string;
  category: string;
  purpose: string;
  action: string;
  at: Date | undefined;
}

const params = (q: ClientQuery) => [q.tenant, q.clientId, q.category, q.purpose, q.action, q.at ?? null];

/** The facts one client decision for one resident rests on. */
export async function clientFacts(tx: Queryable, q: ClientQuery, resident: string): Promise<ClientFacts> {
  const { rows } = await tx.query<ClientFacts>(
    `with ${ITEM_CTE}
     ${HEAD}, best.id as "recordId", best.covers, best.state
       from (select) one
       left join i on true
       left join lateral (
         select * from (
           select r.id, r.given_at, ${COVERS_SQL} as covers,
                  ${stateSql('coalesce($6::timestamptz, now())')} as state
             from consent.records r
             join consent.record_items g on g.tenant_id = r.tenant_id and g.record_id = r.id
            where r.tenant_id = $1 and r.client_id = $2 and r.resident_id = $7::uuid
              and g.category = $3 and g.purpose = $4) c
          order by (c.covers and c.state = 'given') desc, c.given_at desc, c.id
          limit 1) best on i.basis = 'consent'`,
    [...params(q), resident],
    // Every personal read asks it: on PostgreSQL planning it cost more than running it.
    { prepare: true },
  );
  return rows[0] as ClientFacts;
}

/**
 * The facts of a client decision over many residents: the item, and in the same statement the
 * residents (of the candidates, or all) whose record in force covers it.
 */
export async function clientFactsMany(
  tx: Queryable,
  q: ClientQuery,
  residents: readonly string[] | undefined,
): Promise<ItemFacts & { residents: string[] | null }> {
  // Two fixed texts, each planned for what it starts from: the candidates (joined to their records),
  // or every record of the client. Starting from the grants misjudges how many there are.
  const from = residents
    ? `unnest($7::uuid[]) as c (resident_id)
             join consent.records r on r.tenant_id = $1 and r.client_id = $2 and r.resident_id = c.resident_id`
    : 'consent.records r';
  const { rows } = await tx.query<ItemFacts & { residents: string[] | null }>(
    `with ${ITEM_CTE}
     ${HEAD},
         case when i.basis = 'consent' then array(
           select distinct r.resident_id
             from ${from}
             join consent.record_items g
               on g.tenant_id = r.tenant_id and g.record_id = r.id and g.category = $3 and g.purpose = $4
            where r.tenant_id = $1 and r.client_id = $2
              and ${COVERS_SQL}
              and ${inForceSql('coalesce($6::timestamptz, now())')}
            order by 1)::text[] end as residents
       from (select) one
       left join i on true`,
    residents ? [...params(q), residents] : params(q),
  );
  return rows[0] as ItemFacts & { residents: string[] | null };
}

export interface StaffFacts {
  inTenant: boolean;
  categoryKnown: boolean;
  roleAllows: boolean;
  purposeKnown: boolean;
}

/** Whether a role of the staff member reaches the category, and the stated purpose is the tenant's. */
export async function staffFacts(
  tx: Queryable,
  q: { tenant: string; category: string; roles: readonly string[]; purpose: string },
): Promise<StaffFacts> {
  const { rows } = await tx.query<StaffFacts>(
    `select current_setting('machi.tenant_id', true) is not distinct from $1 as "inTenant",
            exists (select from consent.categories where code = $2) as "categoryKnown",
            exists (select from consent.staff_role_categories where role = any($3::text[]) and category = $2)
              as "roleAllows",
            exists (select from consent.purposes where tenant_id = $1 and id = $4) as "purposeKnown"`,
    [q.tenant, q.category, [...q.roles], q.purpose],
  );
  return rows[0] as StaffFacts;
}
