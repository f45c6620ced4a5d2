/**
 * The catalogue a tenant keeps: which data category each NGSI-LD type and attribute belongs to, and
 * the purposes services may ask for.
 */
import { BadRequest, type Queryable } from '../platform/index.ts';
import {
  selectCategories,
  selectCategoryMappings,
  selectPurposes,
  upsertCategoryMapping,
  upsertPurpose,
} from './store.ts';
import type { Category, Purpose } from './types.ts';

/** The data categories (a code list shared by every tenant). */
export function listCategories(tx: Queryable): Promise<Category[]> {
  return selectCategories(tx);
}

/** The category, or BadRequest naming the known ones. */
export async function requireCategory(tx: Queryable, code: string): Promise<Category> {
  const categories = await selectCategories(tx);
  const category = categories.find((c) => c.code === code);
  if (!category) {
    throw new BadRequest(
      `"${code}" is not a data category; use one of ${categories.map((c) => c.code).join(', ')}`,
    );
  }
  return category;
}

/**
 * Maps an entity type (expanded IRI or short name) and one attribute, or `*` for every attribute
 * the type has, to a data category in the tenant.
 */
export async function mapCategory(
  tx: Queryable,
  tenant: string,
  mapping: { entityType: string; attribute?: string; category: string },
): Promise<void> {
  if (mapping.entityType.trim() === '' || mapping.attribute?.trim() === '') {
    throw new BadRequest('an entity type and attribute must not be empty');
  }
  await requireCategory(tx, mapping.category);
  await upsertCategoryMapping(tx, tenant, { ...mapping, attribute: mapping.attribute ?? '*' });
}

/** The last segment of an IRI (`https://…/Person` → `Person`); a short name stays as it is. */
export function shortName(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('#'));
  return cut >= 0 && cut < name.length - 1 ? name.slice(cut + 1) : name;
}

export interface CategoriesOf {
  /** Every category the attributes touch, sorted. */
  categories: string[];
  /** The category of each attribute that has one. */
  byAttribute: Record<string, string>;
  /** Attributes no mapping covers. */
  unmapped: string[];
}

/**
 * The categories that attributes of an entity type fall in, in the transaction's tenant. An
 * attribute's own mapping wins over the type's `*`; a full IRI wins over a short name. With no
 * attributes named, the whole entity: every category mapped for the type.
 */
export async function categoriesOf(
  tx: Queryable,
  type: string,
  attrs: readonly string[],
): Promise<CategoriesOf> {
  const typeNames = [...new Set([type, shortName(type)])];
  const rows = await selectCategoryMappings(tx, typeNames);
  const find = (typeName: string, attr: string) =>
    rows.find((r) => r.entityType === typeName && r.attribute === attr)?.category;
  if (attrs.length === 0) {
    return { categories: [...new Set(rows.map((r) => r.category))].sort(), byAttribute: {}, unmapped: [] };
  }
  const byAttribute: Record<string, string> = {};
  const unmapped: string[] = [];
  for (const attr of attrs) {
    const attrNames = [...new Set([attr, shortName(attr)])];
    const category =
      typeNames.flatMap((t) => attrNames.map((a) => find(t, a))).find((c) => c !== undefined) ??
      typeNames.map((t) => find(t, '*')).find((c) => c !== undefined);
    if (category) {
      byAttribute[attr] = category;
    } else {
      unmapped.push(attr);
    }
  }
  return { categories: [...new Set(Object.values(byAttribute))].sort(), byAttribute, unmapped };
}

const SLUG = /^[a-z][a-z0-9-]{0,62}$/;
const DPV = /^(dpv:[A-Za-z]+|https:\/\/w3id\.org\/dpv#[A-Za-z]+)$/;

/** Adds a purpose to the tenant's catalogue, or rewords one already there. */
export async function definePurpose(tx: Queryable, tenant: string, purpose: Purpose): Promise<void> {
  if (!SLUG.test(purpose.id)) {
    throw new BadRequest(`"${purpose.id}" is not a purpose id: use lowercase letters, digits and hyphens`);
  }
  if (purpose.dpv !== undefined && !DPV.test(purpose.dpv)) {
    throw new BadRequest(
      `"${purpose.dpv}" is not a DPV purpose: write dpv:Name or https://w3id.org/dpv#Name`,
    );
  }
  for (const field of ['nameJa', 'nameEn', 'descriptionJa', 'descriptionEn'] as const) {
    if (purpose[field].trim() === '') {
      throw new BadRequest(`a purpose needs ${field}: residents read it before they agree`);
    }
  }
  await upsertPurpose(tx, tenant, purpose);
}

export function listPurposes(tx: Queryable, tenant: string): Promise<Purpose[]> {
  return selectPurposes(tx, tenant);
}
