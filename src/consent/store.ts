/**
 * SQL of the catalogue: data categories, the tenant's map of entity types to categories, purposes
 * and service requests. Every statement runs in the caller's transaction, under its tenant.
 */
import type { Queryable } from '../platform/index.ts';
import type { Category, ControllerKind, Purpose, ServiceRequest, StoredItem } from './types.ts';

export async function selectCategories(tx: Queryable): Promise<Category[]> {
  const { rows } = await tx.query<Category>(
    `select code, name_ja as "nameJa", name_en as "nameEn", sensitive
       from consent.categories order by code`,
  );
  return rows;
}

export async function upsertCategoryMapping(
  tx: Queryable,
  tenant: string,
  row: { entityType: string; attribute: string; category: string },
): Promise<void> {
  await tx.query(
    `insert into consent.category_map (tenant_id, entity_type, attribute, category)
     values ($1, $2, $3, $4)
     on conflict (tenant_id, entity_type, attribute) do update set category = excluded.category`,
    [tenant, row.entityType, row.attribute, row.category],
  );
}

/**
 * The mappings of any of these type names (full IRI, short name) in the transaction's own tenant:
 * outside `withTenant` there is none, so no other tenant's map can answer.
 */
export async function selectCategoryMappings(
  tx: Queryable,
  typeNames: string[],
): Promise<{ entityType: string; attribute: string; category: string }[]> {
  const { rows } = await tx.query<{ entityType: string; attribute: string; category: string }>(
    `select entity_type as "entityType", attribute, category
       from consent.category_map
      where tenant_id = current_setting('machi.tenant_id', true) and entity_type = any($1::text[])`,
    [typeNames],
  );
  return rows;
}

export async function upsertPurpose(tx: Queryable, tenant: string, p: Purpose): Promise<void> {
  await tx.query(
    `insert into consent.purposes (tenant_id, id, name_ja, name_en, description_ja, description_en, dpv)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (tenant_id, id) do update set
       name_ja = excluded.name_ja, name_en = excluded.name_en, description_ja = excluded.description_ja,
       description_en = excluded.description_en, dpv = excluded.dpv`,
    [tenant, p.id, p.nameJa, p.nameEn, p.descriptionJa, p.descriptionEn, p.dpv ?? null],
  );
}

export async function selectPurposes(tx: Queryable, tenant: string): Promise<Purpose[]> {
  const { rows } = await tx.query<Purpose & { dpv: string | null }>(
    `select id, name_ja as "nameJa", name_en as "nameEn", description_ja as "descriptionJa",
            description_en as "descriptionEn", dpv
       from consent.purposes where tenant_id = $1 order by id`,
    [tenant],
  );
  return rows.map((r) => ({ ...r, dpv: r.dpv ?? undefined }));
}

interface RequestRow {
  clientId: string;
  version: number;
  controller: string;
  controllerKind: ControllerKind;
  createdAt: Date;
}

/** The request's latest version (or the one asked for), with its items; undefined when there is none. */
export async function selectServiceRequest(
  tx: Queryable,
  tenant: string,
  clientId: string,
  version?: number,
): Promise<ServiceRequest | undefined> {
  const { rows } = await tx.query<RequestRow>(
    `select client_id as "clientId", version, controller, controller_kind as "controllerKind",
            created_at as "createdAt"
       from consent.service_requests
      where tenant_id = $1 and client_id = $2 and ($3::integer is null or version = $3)
      order by version desc limit 1`,
    [tenant, clientId, version ?? null],
  );
  const request = rows[0];
  if (!request) {
    return undefined;
  }
  const items = await tx.query<StoredItem>(
    `select category, purpose, retention, third_party as "thirdParty", actions, legal_basis as "legalBasis"
       from consent.request_items
      where tenant_id = $1 and client_id = $2 and version = $3
      order by category, purpose`,
    [tenant, clientId, request.version],
  );
  return { ...request, items: items.rows };
}

/** Writes a new version of a request, items and all. */
export async function insertServiceRequest(
  tx: Queryable,
  tenant: string,
  request: Omit<ServiceRequest, 'createdAt'>,
): Promise<void> {
  await tx.query(
    `insert into consent.service_requests (tenant_id, client_id, version, controller, controller_kind)
     values ($1, $2, $3, $4, $5)`,
    [tenant, request.clientId, request.version, request.controller, request.controllerKind],
  );
  const items = request.items;
  await tx.query(
    `insert into consent.request_items
       (tenant_id, client_id, version, category, purpose, retention, third_party, actions, legal_basis)
     select $1, $2, $3, i.category, i.purpose, i.retention, i.third_party, string_to_array(i.actions, ','), i.legal_basis
       from unnest($4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[])
            as i (category, purpose, retention, third_party, actions, legal_basis)`,
    [
      tenant,
      request.clientId,
      request.version,
      items.map((i) => i.category),
      items.map((i) => i.purpose),
      items.map((i) => i.retention),
      items.map((i) => i.thirdParty),
      items.map((i) => i.actions.join(',')),
      items.map((i) => i.legalBasis),
    ],
  );
}

/** Purposes of the list that the tenant's catalogue lacks. */
export async function missingPurposes(tx: Queryable, tenant: string, ids: string[]): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `select id from unnest($2::text[]) as p (id)
      where not exists (select from consent.purposes c where c.tenant_id = $1 and c.id = p.id)`,
    [tenant, ids],
  );
  return rows.map((r) => r.id);
}
