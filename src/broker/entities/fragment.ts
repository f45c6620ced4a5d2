/**
 * Reads the Entity Fragments that update requests carry (ETSI GS CIM 009 §5.4, §5.5.4 NGSI-LD Null):
 * which attributes and which of their instances (by datasetId) a request names, and which it deletes;
 * and merges an attribute fragment into an instance as JSON (§5.5.12). The instances are parsed by
 * parse-entity.ts afterwards, so a merged attribute is checked as strictly as a new one.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { BadRequestData } from '../errors.ts';
import { ENTITY_MEMBERS, INSTANCE_MEMBERS, VALUE_MEMBER } from './model.ts';
import { assertName, assertUri, parseScopes, parseTypes } from './parse-entity.ts';

/** §5.5.4: the value that deletes what it stands for in an update or merge. */
export const NGSI_LD_NULL = 'urn:ngsi-ld:null';

const VALUE_MEMBERS = [...new Set(Object.values(VALUE_MEMBER))];
const MAX_ATTRIBUTES = 1000;

type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One instance a fragment names: `datasetId` '' is the default instance. */
export interface FragmentItem {
  datasetId: string;
  /** The fragment deletes this instance (its value is NGSI-LD Null). */
  remove: boolean;
  raw: unknown;
}

export interface FragmentAttribute {
  /** The name as the client sent it (for 207 answers). */
  name: string;
  iri: string;
  items: FragmentItem[];
}

export interface EntityFragment {
  /** Expanded types to add (§4.16: updates add types, only replacement removes them). */
  types: string[];
  /** Undefined when the fragment does not mention scope; null when it deletes it. */
  scopes?: string[] | null;
  attrs: FragmentAttribute[];
}

/** NGSI-LD Null, or JSON null, which a client writing merge-patch (RFC 7396) expects to delete too. */
export function isNgsiLdNull(value: unknown): boolean {
  return value === null || value === NGSI_LD_NULL;
}

/** An attribute the fragment deletes: NGSI-LD Null as the attribute, or as its value member (§5.5.4). */
export function deletesAttribute(raw: unknown): boolean {
  if (isNgsiLdNull(raw)) {
    return true;
  }
  if (!isObject(raw)) {
    return false;
  }
  return VALUE_MEMBERS.some((member) => {
    const v = raw[member];
    if (Array.isArray(v)) return v.length === 1 && isNgsiLdNull(v[0]);
    if (member === 'languageMap' && isObject(v)) return isNgsiLdNull(v['@none']);
    return v !== undefined && isNgsiLdNull(v);
  });
}

function looksLikeInstance(value: unknown): boolean {
  return (
    isObject(value) &&
    (typeof value.type === 'string' || 'datasetId' in value || VALUE_MEMBERS.some((m) => m in value))
  );
}

function readItems(name: string, raw: unknown): FragmentItem[] {
  const list = Array.isArray(raw) && raw.length > 0 && raw.every(looksLikeInstance) ? raw : [raw];
  const seen = new Set<string>();
  return list.map((item) => {
    const datasetId =
      isObject(item) && item.datasetId !== undefined ? assertUri(item.datasetId, `${name}.datasetId`) : '';
    if (seen.has(datasetId)) {
      throw new BadRequestData(
        `attribute ${name} names ${datasetId ? `datasetId ${datasetId}` : 'the default instance'} twice`,
      );
    }
    seen.add(datasetId);
    return { datasetId, remove: deletesAttribute(item), raw: item };
  });
}

function readScopes(value: unknown): string[] | null | undefined {
  if (value === undefined || isNgsiLdNull(value)) {
    return value === undefined ? undefined : null;
  }
  return parseScopes(value);
}

/**
 * Reads an Entity Fragment.
 * @param idFromPath the entity id in the URL; an id in the body must agree with it
 * @throws BadRequestData for a body that is not an object, a bad name, datasetId or type
 */
export function readFragment(body: unknown, ctx: ActiveContext, idFromPath?: string): EntityFragment {
  if (!isObject(body)) {
    throw new BadRequestData('the request body must be a JSON object of attributes');
  }
  const bodyId = body.id ?? body['@id'];
  if (idFromPath !== undefined && bodyId !== undefined && bodyId !== idFromPath) {
    throw new BadRequestData(`the body's id ${JSON.stringify(bodyId)} differs from the id in the path`);
  }
  const type = body.type ?? body['@type'];
  const names = Object.keys(body).filter((k) => !ENTITY_MEMBERS.has(k));
  if (names.length > MAX_ATTRIBUTES) {
    throw new BadRequestData(`an entity may have at most ${MAX_ATTRIBUTES} attributes`);
  }
  const attrs = names.map((name) => {
    assertName(name, 'attribute name');
    return { name, iri: ctx.expand(name), items: readItems(name, body[name]) };
  });
  const scopes = readScopes(body.scope);
  return {
    types: type === undefined ? [] : parseTypes(type, ctx),
    ...(scopes === undefined ? {} : { scopes }),
    attrs,
  };
}

/** A concise fragment (a bare value, or a GeoJSON geometry) as the `value` it stands for (§4.5.3). */
export function asFragment(raw: unknown): Json {
  const isGeometry = isObject(raw) && typeof raw.type === 'string' && 'coordinates' in raw;
  return isObject(raw) && !isGeometry ? raw : { value: raw };
}

const MEMBER_TYPE = new Map(
  Object.entries(VALUE_MEMBER)
    .filter(([type]) => type !== 'GeoProperty')
    .map(([type, member]) => [member, type]),
);

/** Whether the fragment makes the attribute another type, in which case it replaces it whole. */
function changesType(existing: Json, patch: Json): boolean {
  if (typeof patch.type === 'string') {
    return patch.type !== existing.type;
  }
  const member = VALUE_MEMBER[existing.type as keyof typeof VALUE_MEMBER];
  return [...MEMBER_TYPE.keys()].some((m) => m in patch && m !== member);
}

/**
 * §5.5.12 merge-patch of one attribute instance: members in the fragment replace those of the
 * instance, members it does not name stay (observedAt, unitCode, sub-attributes), sub-attributes are
 * merged the same way, NGSI-LD Null deletes a member or sub-attribute, and a Property value or a
 * languageMap that is a JSON object is merged key by key.
 */
export function mergeInstanceJson(existing: Json, patch: Json): Json {
  if (changesType(existing, patch)) {
    return patch;
  }
  const out: Json = { ...existing };
  for (const [key, value] of Object.entries(patch)) {
    const current = existing[key];
    if (!INSTANCE_MEMBERS.has(key)) {
      if (isNgsiLdNull(value) || (isObject(value) && deletesSubAttribute(value))) delete out[key];
      else out[key] = isObject(current) ? mergeInstanceJson(current, asFragment(value)) : value;
    } else if (isNgsiLdNull(value) && key !== 'value') {
      delete out[key];
    } else if ((key === 'value' && existing.type === 'Property') || key === 'languageMap') {
      out[key] = mergeValue(current, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function deletesSubAttribute(value: Json): boolean {
  return VALUE_MEMBERS.some((m) => m in value && isNgsiLdNull(value[m]));
}

/** RFC 7396 for a JSON value inside a Property: objects merge key by key, NGSI-LD Null removes a key. */
function mergeValue(target: unknown, patch: unknown): unknown {
  if (!isObject(target) || !isObject(patch)) {
    return patch;
  }
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (isNgsiLdNull(value)) delete out[key];
    else out[key] = mergeValue(target[key], value);
  }
  return out;
}
