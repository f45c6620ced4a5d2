/**
 * How far a resident's consent covers what a service asks now, item by item: what to tick on the
 * consent screen, and whether the resident must be asked again because the request changed. It
 * reads records the way `decide` does (the same coverage and in-force rules), but it is not a use
 * of anyone's data, so it decides nothing and touches no access log.
 */
import type { Queryable } from '../platform/index.ts';
import { COVERS_SQL, inForceSql } from './record-store.ts';
import { assertAccountId } from './records.ts';
import { selectServiceRequest } from './store.ts';
import type { ServiceRequest, StoredItem } from './types.ts';

export interface Coverage {
  /** The service's current request; undefined when it has declared none. */
  request: ServiceRequest | undefined;
  /** The request's items whose basis is consent (the ones a resident is asked about). */
  asked: StoredItem[];
  /** Of those, the ones a record in force covers now. */
  covered: StoredItem[];
  /**
   * Consent-based items the resident has not answered on these terms: never asked, new, or grown
   * since their last answer (a longer retention, newly a third-party provision, an action added, or
   * another controller). An item the resident left unticked, asked again unchanged, is not here.
   */
  unanswered: StoredItem[];
  /** The request version of the resident's last answer (their newest record in force), if any. */
  answeredVersion: number | undefined;
}

/** The current consent-based items (effective basis, requests.ts) of request $4, with what covers them. */
const COVERAGE_SQL = `
  with req as (
    select version, controller, controller_kind from consent.service_requests
     where tenant_id = $1 and client_id = $2 and version = $4),
  i as (
    select ri.category, ri.purpose, ri.retention, ri.third_party, ri.actions, req.controller
      from req
      join consent.request_items ri on ri.tenant_id = $1 and ri.client_id = $2 and ri.version = req.version
      join consent.categories c on c.code = ri.category
     where ri.legal_basis = 'consent'
        or (c.sensitive and not (req.controller_kind = 'municipality' and ri.legal_basis = 'statutory-duty'))),
  last as (
    select r.request_version from consent.records r
     where r.tenant_id = $1 and r.client_id = $2 and r.resident_id = $3 and ${inForceSql('now()')}
     order by r.given_at desc, r.id limit 1)
  select i.category, i.purpose, (select request_version from last) as "answeredVersion",
         exists (select from consent.records r
                   join consent.record_items g on g.tenant_id = r.tenant_id and g.record_id = r.id
                  where r.tenant_id = $1 and r.client_id = $2 and r.resident_id = $3
                    and g.category = i.category and g.purpose = i.purpose
                    and ${COVERS_SQL} and ${inForceSql('now()')}) as covered,
         exists (select from last
                   join consent.service_requests s
                     on s.tenant_id = $1 and s.client_id = $2 and s.version = last.request_version
                   join consent.request_items o
                     on o.tenant_id = $1 and o.client_id = $2 and o.version = s.version
                    and o.category = i.category and o.purpose = i.purpose
                   join consent.categories oc on oc.code = o.category
                  where s.controller = i.controller
                    and (o.legal_basis = 'consent'
                         or (oc.sensitive and not (s.controller_kind = 'municipality' and o.legal_basis = 'statutory-duty')))
                    and o.retention::interval >= i.retention::interval
                    and (o.third_party or not i.third_party)
                    and o.actions @> i.actions) as answered
    from i
   order by i.category, i.purpose`;

/**
 * The coverage of a service's current request by the resident's consent. `tx` must be a
 * transaction of `tenant` (db.withTenant). The resident's last answer is their newest record in
 * force (each answer supersedes the ones before, and one granting nothing is an answer too).
 */
export async function consentCoverage(
  tx: Queryable,
  input: { tenant: string; resident: string; clientId: string },
): Promise<Coverage> {
  assertAccountId(input.resident);
  const request = await selectServiceRequest(tx, input.tenant, input.clientId);
  if (!request) {
    return { request: undefined, asked: [], covered: [], unanswered: [], answeredVersion: undefined };
  }
  const { rows } = await tx.query<{
    category: string;
    purpose: string;
    answeredVersion: number | null;
    covered: boolean;
    answered: boolean;
  }>(COVERAGE_SQL, [input.tenant, input.clientId, input.resident, request.version]);
  const itemOf = (row: { category: string; purpose: string }) =>
    request.items.find((i) => i.category === row.category && i.purpose === row.purpose) as StoredItem;
  return {
    request,
    asked: rows.map(itemOf),
    covered: rows.filter((r) => r.covered).map(itemOf),
    unanswered: rows.filter((r) => !r.covered && !r.answered).map(itemOf),
    answeredVersion: rows[0]?.answeredVersion ?? undefined,
  };
}
