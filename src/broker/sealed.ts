/**
 * 要配慮個人情報 at rest. In an entity of a personal type, an attribute whose category (consent's
 * catalogue) is sensitive is stored sealed with the tenant's data key (platform/envelope.ts): its
 * instances keep in the clear only what the store needs to place them (type, datasetId, observedAt,
 * createdAt, modifiedAt); value, unitCode, objectType, language and sub-attributes are in `sealed`.
 * Whatever the write leads to (history rows, notification jobs) carries the same sealed instances.
 * An attribute is sealed when it is written (personal.ts); it is opened only after personal.ts has
 * decided that the caller sees it, or, for a query's filter, within the entities it already reaches.
 */
import { categoriesOf, listCategories } from '../consent/index.ts';
import type { DataKey, DataKeys, Queryable } from '../platform/index.ts';
import type { AttributeMap, Instance, StoredEntity } from './entities/model.ts';

/** The members of a sealed instance kept in the clear. */
const CLEAR = new Set(['type', 'datasetId', 'observedAt', 'createdAt', 'modifiedAt']);

/** What a sealed instance is bound to: a value copied to another entity, attribute or dataset does not open. */
const contextOf = (tenant: string, entityId: string, attr: string, instance: Instance) =>
  JSON.stringify(['machi:broker:attribute', tenant, entityId, attr, instance.datasetId ?? '']);

export const isSealed = (instance: Instance): boolean => instance.sealed !== undefined;

/** Whether any instance of these attributes (all when `only` is not given) is sealed. */
export function hasSealed(entity: StoredEntity, only?: ReadonlySet<string>): boolean {
  return Object.entries(entity.attrs).some(
    ([attr, instances]) => (!only || only.has(attr)) && instances.some(isSealed),
  );
}

/**
 * The attributes (of `attrs`, expanded) that any of the personal `types` maps to a sensitive
 * category: an attribute's own mapping, else the type's `*`.
 */
export async function sensitiveAttributes(
  tx: Queryable,
  types: readonly string[],
  attrs: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  if (types.length === 0 || attrs.length === 0) return found;
  const sensitive = new Set((await listCategories(tx)).filter((c) => c.sensitive).map((c) => c.code));
  for (const type of types) {
    const { byAttribute } = await categoriesOf(tx, type, attrs);
    for (const attr of attrs) {
      const category = byAttribute[attr];
      if (category && sensitive.has(category)) found.add(attr);
    }
  }
  return found;
}

function sealInstance(key: DataKey, context: string, instance: Instance): Instance {
  if (isSealed(instance)) return instance;
  const clear: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(instance)) {
    (CLEAR.has(member) ? clear : secret)[member] = value;
  }
  return { ...(clear as Pick<Instance, 'type'>), sealed: key.seal(JSON.stringify(secret), context) };
}

function openInstance(key: DataKey, context: string, instance: Instance): Instance {
  if (instance.sealed === undefined) return instance;
  const { sealed, ...clear } = instance;
  return { ...clear, ...(JSON.parse(key.open(sealed, context)) as Partial<Instance>) };
}

/** The entity with every instance of `attrs` sealed (the entity given is left as it is). */
export function sealAttributes(
  key: DataKey,
  tenant: string,
  entity: StoredEntity,
  attrs: ReadonlySet<string>,
): StoredEntity {
  const sealed: AttributeMap = {};
  for (const [attr, instances] of Object.entries(entity.attrs)) {
    sealed[attr] = attrs.has(attr)
      ? instances.map((i) => sealInstance(key, contextOf(tenant, entity.id, attr, i), i))
      : instances;
  }
  return { ...entity, attrs: sealed };
}

/**
 * How an entity of these personal types is to be stored: with its attributes (of `attrs`) of a
 * sensitive category sealed with the tenant's data key, made on first use.
 */
export async function sealerFor(
  tx: Queryable,
  keys: DataKeys | undefined,
  tenant: string,
  types: readonly string[],
  attrs: readonly string[],
): Promise<(entity: StoredEntity) => StoredEntity> {
  const sensitive = await sensitiveAttributes(tx, types, attrs);
  if (sensitive.size === 0) return (entity) => entity;
  // Never the plain values instead: without the keys the write fails.
  if (!keys) throw new Error('sensitive attributes cannot be written here: the data keys were not given');
  const key = await keys.forTenant(tx, tenant);
  return (entity) => sealAttributes(key, tenant, entity, sensitive);
}

/**
 * The entities with their sealed instances opened (of `only` these attributes, when given). The
 * tenant's data key is looked up only when something is sealed.
 * @throws EnvelopeError when a value does not open with the tenant's data key
 */
export async function openAttributes(
  tx: Queryable,
  keys: DataKeys | undefined,
  tenant: string,
  entities: StoredEntity[],
  only?: ReadonlySet<string>,
): Promise<StoredEntity[]> {
  if (!entities.some((e) => hasSealed(e, only))) return entities;
  if (!keys) throw new Error('sealed attributes cannot be opened here: the data keys were not given');
  const key = await keys.forTenant(tx, tenant);
  return entities.map((entity) => {
    if (!hasSealed(entity, only)) return entity;
    const attrs: AttributeMap = {};
    for (const [attr, instances] of Object.entries(entity.attrs)) {
      attrs[attr] =
        only && !only.has(attr)
          ? instances
          : instances.map((i) => openInstance(key, contextOf(tenant, entity.id, attr, i), i));
    }
    return { ...entity, attrs };
  });
}
