/**
 * The participating local governments as `GET /api/v1/tenants` returns them, checked on arrival
 * and grouped under their prefecture for display.
 */

/** A tenant: a local government named by its 全国地方公共団体コード (6 digits with check digit). */
export interface Tenant {
  code: string;
  name: string;
  nameEn: string | null;
  kind: string;
  parentCode: string | null;
}

/** A prefecture with the participating municipalities under it; `prefecture` is null for those without one. */
export interface PrefectureGroup {
  prefecture: Tenant | null;
  municipalities: Tenant[];
}

export class TenantListError extends Error {}

const tenantsUrl = '/api/v1/tenants';
const timeoutMs = 15_000;

/** The tenant list; gives up after a while so a phone on a bad line sees the failure message. */
export async function fetchTenants(signal: AbortSignal): Promise<Tenant[]> {
  // One controller for both the caller's abort and the timeout (AbortSignal.any is too new for older phones).
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, timeoutMs);
  try {
    const response = await fetch(tenantsUrl, {
      headers: { accept: 'application/json' },
      signal: controller.signal,
    });
    if (!response.ok) throw new TenantListError(`${tenantsUrl} answered ${response.status}`);
    return parseTenantList(await response.json());
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Keeps the tenants that carry a code and a name; throws when the body is not a tenant list at all. */
export function parseTenantList(body: unknown): Tenant[] {
  if (!isRecord(body) || !Array.isArray(body.tenants)) {
    throw new TenantListError(`${tenantsUrl} did not answer a tenant list`);
  }
  const tenants: Tenant[] = [];
  for (const item of body.tenants) {
    if (!isRecord(item) || typeof item.code !== 'string' || typeof item.name !== 'string') continue;
    tenants.push({
      code: item.code,
      name: item.name,
      nameEn: optionalString(item.nameEn),
      kind: typeof item.kind === 'string' ? item.kind : 'municipality',
      parentCode: optionalString(item.parentCode),
    });
  }
  return tenants;
}

const byCode = (a: Tenant, b: Tenant) => a.code.localeCompare(b.code);

/** The prefecture a tenant belongs to, following parents (a ward's parent is its city); null if none is listed. */
function prefectureOf(tenant: Tenant, byCodeMap: Map<string, Tenant>): Tenant | null {
  const seen = new Set<string>();
  let parent = tenant.parentCode ? byCodeMap.get(tenant.parentCode) : undefined;
  while (parent && !seen.has(parent.code)) {
    if (parent.kind === 'prefecture') return parent;
    seen.add(parent.code);
    parent = parent.parentCode ? byCodeMap.get(parent.parentCode) : undefined;
  }
  return null;
}

/** Prefectures in code order, each with its municipalities in code order; the unplaced ones last. */
export function groupByPrefecture(tenants: Tenant[]): PrefectureGroup[] {
  const byCodeMap = new Map(tenants.map((tenant) => [tenant.code, tenant]));
  const groups = new Map<string, PrefectureGroup>();
  for (const prefecture of tenants.filter((tenant) => tenant.kind === 'prefecture').sort(byCode)) {
    groups.set(prefecture.code, { prefecture, municipalities: [] });
  }
  const unplaced: Tenant[] = [];
  for (const tenant of tenants) {
    if (tenant.kind === 'prefecture') continue;
    const prefecture = prefectureOf(tenant, byCodeMap);
    const group = prefecture ? groups.get(prefecture.code) : undefined;
    if (group) group.municipalities.push(tenant);
    else unplaced.push(tenant);
  }
  const result = [...groups.values()];
  if (unplaced.length > 0) result.push({ prefecture: null, municipalities: unplaced });
  for (const group of result) group.municipalities.sort(byCode);
  return result;
}
