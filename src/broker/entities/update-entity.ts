/**
 * The entity updates of ETSI GS CIM 009 §5.6 as pure functions: each takes the stored entity before
 * the request and returns its new state with the attributes the request touched. None mutates its
 * input (the change report needs the entity as it was) and none touches the database.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { BadRequestData, ResourceNotFound } from '../errors.ts';
import {
  asFragment,
  type EntityFragment,
  type FragmentAttribute,
  type FragmentItem,
  isNgsiLdNull,
  mergeInstanceJson,
} from './fragment.ts';
import type { AttributeMap, Instance, StoredEntity } from './model.ts';
import { parseAttribute } from './parse-entity.ts';
import { renderAttributes } from './render-entity.ts';
import { stampInstances } from './store.ts';

/** An attribute a request named but did not write, for the 207 UpdateResult (§5.2.18). */
export interface NotUpdated {
  attributeName: string;
  reason: string;
}

export interface Updated {
  after: StoredEntity;
  /** Expanded names of the attributes written or deleted (for the change report). */
  touched: string[];
  /** Names, as sent, of the attributes written or deleted. */
  updated: string[];
  notUpdated: NotUpdated[];
}

type Json = Record<string, unknown>;

/** Decides whether a fragment instance may be written; a reason when it may not. */
type Rule = (existing: Instance | undefined) => string | undefined;

const sameDataset = (instance: Instance, datasetId: string) => (instance.datasetId ?? '') === datasetId;

function findInstance(attrs: AttributeMap, iri: string, datasetId: string): Instance | undefined {
  return attrs[iri]?.find((i) => sameDataset(i, datasetId));
}

function putInstance(attrs: AttributeMap, iri: string, instance: Instance): void {
  const others = (attrs[iri] ?? []).filter((i) => !sameDataset(i, instance.datasetId ?? ''));
  attrs[iri] = [...others, instance];
}

/** @returns whether there was such an instance */
function dropInstance(attrs: AttributeMap, iri: string, datasetId: string): boolean {
  const instances = attrs[iri];
  const kept = instances?.filter((i) => !sameDataset(i, datasetId));
  if (!instances || kept?.length === instances.length) {
    return false;
  }
  if (kept?.length) attrs[iri] = kept;
  else delete attrs[iri];
  return true;
}

function start(before: StoredEntity, fragment?: EntityFragment): StoredEntity {
  const after = structuredClone(before);
  if (fragment) {
    after.types = [...new Set([...before.types, ...fragment.types])];
    if (fragment.scopes !== undefined) after.scopes = fragment.scopes;
  }
  return after;
}

/** One instance of a fragment, parsed, with createdAt kept from the instance it replaces. */
function parsedItem(
  attr: FragmentAttribute,
  raw: unknown,
  ctx: ActiveContext,
  before: StoredEntity,
  now: string,
) {
  const [instance] = parseAttribute(attr.name, raw, ctx, 0) as [Instance];
  stampInstances({ [attr.iri]: [instance] }, now, before.attrs);
  return instance;
}

/**
 * Writes every instance of a fragment that `rule` allows: NGSI-LD Null deletes the instance (§5.5.4),
 * anything else replaces it whole.
 */
function applyFragment(
  before: StoredEntity,
  fragment: EntityFragment,
  ctx: ActiveContext,
  now: string,
  rule: Rule,
): Updated {
  const after = start(before, fragment);
  const result: Updated = { after, touched: [], updated: [], notUpdated: [] };
  for (const attr of fragment.attrs) {
    for (const item of attr.items) {
      const existing = findInstance(before.attrs, attr.iri, item.datasetId);
      const reason = item.remove && !existing ? 'there is no such attribute to delete' : rule(existing);
      if (reason) {
        result.notUpdated.push({ attributeName: attr.name, reason });
        continue;
      }
      if (item.remove) dropInstance(after.attrs, attr.iri, item.datasetId);
      else putInstance(after.attrs, attr.iri, parsedItem(attr, item.raw, ctx, before, now));
      touch(result, attr);
    }
  }
  return result;
}

function touch(result: Updated, attr: FragmentAttribute): void {
  if (!result.touched.includes(attr.iri)) {
    result.touched.push(attr.iri);
    result.updated.push(attr.name);
  }
}

/** §5.6.3 Append Entity Attributes: adds attributes, and overwrites existing ones unless `noOverwrite`. */
export function appendAttributes(
  before: StoredEntity,
  fragment: EntityFragment,
  ctx: ActiveContext,
  now: string,
  noOverwrite: boolean,
): Updated {
  return applyFragment(before, fragment, ctx, now, (existing) =>
    existing && noOverwrite ? 'the attribute exists and options=noOverwrite keeps it' : undefined,
  );
}

/** §5.6.2 Update Entity Attributes: only attributes (and datasetIds) the entity has are written. */
export function updateAttributes(
  before: StoredEntity,
  fragment: EntityFragment,
  ctx: ActiveContext,
  now: string,
): Updated {
  return applyFragment(before, fragment, ctx, now, (existing) =>
    existing ? undefined : 'the entity has no such attribute (with this datasetId)',
  );
}

/** §5.6.17 Merge Entity: attributes present are merged into the existing ones, NGSI-LD Null deletes. */
export function mergeEntity(
  before: StoredEntity,
  fragment: EntityFragment,
  ctx: ActiveContext,
  now: string,
): Updated {
  const after = start(before, fragment);
  const result: Updated = { after, touched: [], updated: [], notUpdated: [] };
  for (const attr of fragment.attrs) {
    for (const item of attr.items) {
      if (mergeItem(before, after, attr, item, ctx, now)) touch(result, attr);
    }
  }
  return result;
}

function mergeItem(
  before: StoredEntity,
  after: StoredEntity,
  attr: FragmentAttribute,
  item: FragmentItem,
  ctx: ActiveContext,
  now: string,
): boolean {
  if (item.remove) {
    return dropInstance(after.attrs, attr.iri, item.datasetId);
  }
  const existing = findInstance(before.attrs, attr.iri, item.datasetId);
  const raw = existing
    ? mergeInstanceJson(renderInstance(attr.iri, existing, ctx), asFragment(item.raw))
    : item.raw;
  putInstance(after.attrs, attr.iri, parsedItem(attr, raw, ctx, before, now));
  return true;
}

/** §5.6.4 Partial Attribute Update: merges one instance (datasetId in the body) that must exist. */
export function updateAttribute(
  before: StoredEntity,
  attr: FragmentAttribute,
  ctx: ActiveContext,
  now: string,
): Updated {
  for (const item of attr.items) {
    if (!findInstance(before.attrs, attr.iri, item.datasetId)) {
      throw new ResourceNotFound(notFound(before.id, attr.name, item.datasetId));
    }
  }
  return mergeEntity(before, { types: [], attrs: [attr] }, ctx, now);
}

/** §5.6.19 Replace Attribute: the instances sent replace existing ones with the same datasetId. */
export function replaceAttribute(
  before: StoredEntity,
  attr: { name: string; iri: string },
  body: unknown,
  ctx: ActiveContext,
  now: string,
): Updated {
  if (isNgsiLdNull(body)) {
    throw new BadRequestData('a replaced attribute needs a value; delete it with DELETE instead');
  }
  const after = start(before);
  const instances = parseAttribute(attr.name, body, ctx, 0);
  stampInstances({ [attr.iri]: instances }, now, before.attrs);
  for (const instance of instances) {
    if (!findInstance(before.attrs, attr.iri, instance.datasetId ?? '')) {
      throw new ResourceNotFound(notFound(before.id, attr.name, instance.datasetId ?? ''));
    }
    putInstance(after.attrs, attr.iri, instance);
  }
  return { after, touched: [attr.iri], updated: [attr.name], notUpdated: [] };
}

/** §5.6.5 Delete Attribute: the default instance, the one with `datasetId`, or all with `deleteAll`. */
export function deleteAttribute(
  before: StoredEntity,
  attr: { name: string; iri: string },
  which: { datasetId?: string | undefined; deleteAll: boolean },
): Updated {
  const after = start(before);
  const datasetId = which.datasetId ?? '';
  const found = which.deleteAll ? attr.iri in before.attrs : dropInstance(after.attrs, attr.iri, datasetId);
  if (which.deleteAll) {
    delete after.attrs[attr.iri];
  }
  if (!found) {
    throw new ResourceNotFound(notFound(before.id, attr.name, which.deleteAll ? '' : datasetId));
  }
  return { after, touched: [attr.iri], updated: [attr.name], notUpdated: [] };
}

/** §5.6.18 Replace Entity: everything but the id and createdAt is replaced; instances keep createdAt. */
export function replaceEntity(before: StoredEntity, replacement: StoredEntity, now: string): Updated {
  stampInstances(replacement.attrs, now, before.attrs);
  const after: StoredEntity = { ...replacement, id: before.id, createdAt: before.createdAt };
  const touched = [...new Set([...Object.keys(before.attrs), ...Object.keys(replacement.attrs)])];
  return { after, touched, updated: touched, notUpdated: [] };
}

function notFound(id: string, name: string, datasetId: string): string {
  return `entity ${id} has no attribute ${name}${datasetId ? ` with datasetId ${datasetId}` : ''}`;
}

/** The stored instance in the normalized form of this request's context, ready to merge a fragment in. */
function renderInstance(iri: string, instance: Instance, ctx: ActiveContext): Json {
  const rendered = renderAttributes({ [iri]: [instance] }, ctx, { format: 'normalized', sysAttrs: false });
  return rendered[ctx.compact(iri)] as Json;
}
