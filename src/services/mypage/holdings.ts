/**
 * What Machi holds about one resident, gathered from every municipality of the deployment: the
 * consent records (with names a resident can read), the access log, the provisions to third
 * parties, the requests they made, and their personal entities in the broker. Each municipality is
 * read in its own row-level-security transaction; nothing here reads across tenants at once.
 */
import { type ResidentEntity, residentEntities } from '../../broker/index.ts';
import {
  type AccessRecord,
  type Category,
  type ConsentRecord,
  describeAccess,
  type Language,
  listAccessLog,
  listCategories,
  listConsents,
  listPurposes,
  listResidentRequests,
  type Provision,
  type Purpose,
  type ResidentRequest,
  thirdPartyProvisions,
} from '../../consent/index.ts';
import { type DataKeys, type Db, listTenants, type Tenant } from '../../platform/index.ts';

/** A name in the resident's language. */
const pick = (lang: Language, ja: string, en: string) => (lang === 'ja' ? ja : en);
const nameIn = (named: { nameJa: string; nameEn: string } | undefined, lang: Language) =>
  named ? pick(lang, named.nameJa, named.nameEn) : undefined;

export interface Names {
  categories: Category[];
  purposes: Map<string, Purpose[]>;
  clients: Map<string, string>;
}

export interface TenantHoldings {
  tenant: Tenant;
  consents: ConsentRecord[];
  log: AccessRecord[];
  provisions: Provision[];
  requests: ResidentRequest[];
  entities: ResidentEntity[];
}

export interface Gather {
  consents?: boolean;
  log?: number;
  provisions?: boolean;
  requests?: boolean;
  entities?: boolean;
}

/**
 * The resident's holdings in every tenant, only the parts asked for; tenants where there is nothing
 * are left out. `log` is how many of the newest access-log records to read per tenant.
 */
export async function gatherHoldings(
  db: Db,
  keys: DataKeys,
  resident: string,
  what: Gather,
): Promise<TenantHoldings[]> {
  const tenants = await listTenants(db);
  const found: TenantHoldings[] = [];
  for (const tenant of tenants) {
    const held = await db.withTenant(tenant.code, async (tx) => ({
      tenant,
      consents: what.consents ? await listConsents(tx, { tenant: tenant.code, resident }) : [],
      log: what.log ? await listAccessLog(tx, tenant.code, resident, { limit: what.log }) : [],
      provisions: what.provisions ? await thirdPartyProvisions(tx, tenant.code, resident) : [],
      requests: what.requests ? await listResidentRequests(tx, tenant.code, resident) : [],
      entities: [] as ResidentEntity[],
    }));
    if (what.entities) held.entities = await residentEntities(db, keys, tenant.code, resident);
    const empty =
      held.consents.length +
        held.log.length +
        held.provisions.length +
        held.requests.length +
        held.entities.length ===
      0;
    if (!empty) found.push(held);
  }
  return found;
}

/** Category and purpose names of the tenants, and the services' names, for what is shown. */
export async function namesFor(
  db: Db,
  holdings: readonly TenantHoldings[],
  clientNames: (ids: readonly string[]) => Promise<Map<string, string>>,
): Promise<Names> {
  const purposes = new Map<string, Purpose[]>();
  let categories: Category[] = [];
  for (const h of holdings) {
    await db.withTenant(h.tenant.code, async (tx) => {
      purposes.set(h.tenant.code, await listPurposes(tx, h.tenant.code));
      if (categories.length === 0) categories = await listCategories(tx);
    });
  }
  const clientIds = holdings.flatMap((h) => [
    ...h.consents.map((c) => c.clientId),
    ...h.requests.flatMap((r) => (r.clientId ? [r.clientId] : [])),
  ]);
  return { categories, purposes, clients: await clientNames(clientIds) };
}

function localNames(names: Names, tenant: string) {
  return {
    categories: Object.fromEntries(names.categories.map((c) => [c.code, c])),
    purposes: Object.fromEntries((names.purposes.get(tenant) ?? []).map((p) => [p.id, p])),
  };
}

/** A consent record as My Page shows it: names in the resident's language, the terms of each item. */
export function consentView(record: ConsentRecord, tenant: Tenant, names: Names, lang: Language) {
  const local = localNames(names, tenant.code);
  return {
    id: record.id,
    municipality: { code: tenant.code, name: pick(lang, tenant.name, tenant.nameEn) },
    service: { clientId: record.clientId, name: names.clients.get(record.clientId) ?? record.clientId },
    controller: record.controller,
    state: record.state,
    givenAt: record.givenAt.toISOString(),
    expiresAt: record.expiresAt?.toISOString() ?? null,
    textVersion: record.textVersion,
    items: record.items.map((i) => {
      const category = local.categories[i.category];
      return {
        category: i.category,
        categoryName: nameIn(category, lang) ?? i.category,
        sensitive: category?.sensitive ?? true,
        purpose: i.purpose,
        purposeName: nameIn(local.purposes[i.purpose], lang) ?? i.purpose,
        retention: i.retention,
        thirdParty: i.thirdParty,
        actions: i.actions,
      };
    }),
    events: record.events.map((e) => ({ event: e.event, at: e.at.toISOString() })),
  };
}

/** An access-log record as My Page shows it: the sentence, and the facts behind it. */
export function accessView(record: AccessRecord, tenant: Tenant, names: Names, lang: Language) {
  return {
    at: record.at.toISOString(),
    municipality: { code: tenant.code, name: pick(lang, tenant.name, tenant.nameEn) },
    text: describeAccess(record, lang, localNames(names, tenant.code)),
    actor: { kind: record.actor.kind, name: record.actor.name },
    purpose: record.purpose,
    categories: record.categories,
    action: record.action,
    decision: record.decision,
    seq: record.seq,
    hash: record.hash,
  };
}

/** A provision to a third party as My Page shows it. */
export function provisionView(p: Provision, tenant: Tenant, names: Names, lang: Language) {
  const local = localNames(names, tenant.code);
  return {
    at: p.at.toISOString(),
    municipality: { code: tenant.code, name: pick(lang, tenant.name, tenant.nameEn) },
    recipient: p.recipient,
    controller: p.controller,
    purpose: p.purpose,
    purposeName: nameIn(local.purposes[p.purpose], lang) ?? p.purpose,
    categories: p.categories.map((c) => nameIn(local.categories[c], lang) ?? c),
    entities: p.entities,
  };
}
