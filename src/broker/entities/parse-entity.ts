/**
 * Reads an entity from a request body (normalized or concise representation, ETSI GS CIM 009 §4.5)
 * into the stored form, checking every member; a mistake is a BadRequestData naming the attribute.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { BadRequestData } from '../errors.ts';
import { GEOMETRY_TYPES, validateGeometry } from '../query/geo-json.ts';
import {
  ATTRIBUTE_TYPES,
  type AttributeMap,
  type AttributeType,
  ENTITY_MEMBERS,
  INSTANCE_MEMBERS,
  type Instance,
  type StoredEntity,
} from './model.ts';

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/;
/** §4.6.2: characters an attribute or type name may not contain. */
const FORBIDDEN_NAME = /[<>"'=;()[\]\s\\]/;
const LANGUAGE_TAG = /^(?:@none|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const GEOJSON_TYPES: ReadonlySet<string> = new Set(GEOMETRY_TYPES);
const MAX_DEPTH = 4;
const MAX_ATTRIBUTES = 1000;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isUri(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2048 && URI.test(value);
}

export function assertUri(value: unknown, what: string): string {
  if (!isUri(value)) {
    throw new BadRequestData(
      `${what} must be a URI (e.g. urn:ngsi-ld:Shelter:001), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function assertName(name: string, what: string): void {
  if (name.length === 0 || name.length > 512 || FORBIDDEN_NAME.test(name)) {
    throw new BadRequestData(
      `${what} ${JSON.stringify(name)} is not a valid name (§4.6.2 forbids < > " ' = ; ( ) [ ] and spaces)`,
    );
  }
}

/** The entity's types, expanded. */
export function parseTypes(value: unknown, ctx: ActiveContext): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string')) {
    throw new BadRequestData('type must be a type name or a non-empty array of type names');
  }
  return [
    ...new Set(
      list.map((t: string) => {
        assertName(t, 'type');
        return ctx.expand(t);
      }),
    ),
  ];
}

/** An entity's scopes (§4.18): a scope path or an array of them. */
export function parseScopes(value: unknown): string[] | null {
  if (value === undefined) {
    return null;
  }
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && /^\/[^\s#]*$/.test(s))) {
    throw new BadRequestData('scope must be a scope such as "/Miyagi/Sendai" or an array of them');
  }
  return list as string[];
}

/**
 * Parses a whole entity for creation or replacement.
 * @param idFromPath the id in the URL, for PUT; a body id must then agree with it
 */
export function parseEntity(body: unknown, ctx: ActiveContext, idFromPath?: string): StoredEntity {
  if (!isObject(body)) {
    throw new BadRequestData('the entity must be a JSON object');
  }
  const id = idFromPath ?? assertUri(body.id ?? body['@id'], 'id');
  if (idFromPath && body.id !== undefined && body.id !== idFromPath) {
    throw new BadRequestData(`the body's id ${JSON.stringify(body.id)} differs from the id in the path`);
  }
  return {
    id,
    types: parseTypes(body.type ?? body['@type'], ctx),
    scopes: parseScopes(body.scope),
    attrs: parseAttributes(body, ctx),
  };
}

/** Parses the attribute members of an entity fragment (append, update, merge bodies too). */
export function parseAttributes(body: Json, ctx: ActiveContext): AttributeMap {
  const attrs: AttributeMap = {};
  const names = Object.keys(body).filter((k) => !ENTITY_MEMBERS.has(k));
  if (names.length > MAX_ATTRIBUTES) {
    throw new BadRequestData(`an entity may have at most ${MAX_ATTRIBUTES} attributes`);
  }
  for (const name of names) {
    assertName(name, 'attribute name');
    attrs[ctx.expand(name)] = parseAttribute(name, body[name], ctx, 0);
  }
  return attrs;
}

/** One attribute: a single instance or an array of instances (multi-attribute, by datasetId). */
export function parseAttribute(name: string, raw: unknown, ctx: ActiveContext, depth: number): Instance[] {
  const instances =
    Array.isArray(raw) && raw.length > 0 && raw.every((i) => isObject(i) && looksLikeInstance(i))
      ? raw.map((i) => parseInstance(name, i, ctx, depth))
      : [parseInstance(name, raw, ctx, depth)];
  const seen = new Set<string>();
  for (const instance of instances) {
    const key = instance.datasetId ?? '';
    if (seen.has(key)) {
      throw new BadRequestData(
        `attribute ${name} has two instances with ${key ? `datasetId ${key}` : 'no datasetId'}; each must have its own`,
      );
    }
    seen.add(key);
  }
  return instances;
}

function looksLikeInstance(value: Json): boolean {
  return (
    typeof value.type === 'string' ||
    ['value', 'object', 'languageMap', 'vocab', 'json', 'valueList', 'objectList'].some((m) => m in value)
  );
}

/** Infers the type of a concise attribute (§4.5.3): from its value member, or a bare value is a Property. */
function inferType(raw: Json): AttributeType | undefined {
  if (typeof raw.type === 'string' && GEOJSON_TYPES.has(raw.type) && 'coordinates' in raw) {
    return undefined;
  }
  if (typeof raw.type === 'string') {
    if (!(ATTRIBUTE_TYPES as readonly string[]).includes(raw.type)) {
      throw new BadRequestData(
        `attribute type ${JSON.stringify(raw.type)} is not one of ${ATTRIBUTE_TYPES.join(', ')}`,
      );
    }
    return raw.type as AttributeType;
  }
  if ('object' in raw) return 'Relationship';
  if ('languageMap' in raw) return 'LanguageProperty';
  if ('vocab' in raw) return 'VocabProperty';
  if ('json' in raw) return 'JsonProperty';
  if ('valueList' in raw) return 'ListProperty';
  if ('objectList' in raw) return 'ListRelationship';
  if ('value' in raw) {
    return isObject(raw.value) && typeof raw.value.type === 'string' && GEOJSON_TYPES.has(raw.value.type)
      ? 'GeoProperty'
      : 'Property';
  }
  return undefined;
}

function parseInstance(name: string, raw: unknown, ctx: ActiveContext, depth: number): Instance {
  if (raw === null || raw === undefined) {
    throw new BadRequestData(`attribute ${name} has no value`);
  }
  if (!isObject(raw)) {
    return { type: 'Property', value: raw };
  }
  const type = inferType(raw);
  if (!type) {
    // A GeoJSON geometry given directly, or an object value without any attribute member.
    return typeof raw.type === 'string' && GEOJSON_TYPES.has(raw.type)
      ? { type: 'GeoProperty', value: validateGeometry(raw, name) }
      : { type: 'Property', value: raw };
  }
  const instance = parseValueMember(name, type, raw, ctx);
  parseCommonMembers(name, raw, instance);
  if (type === 'Relationship' && raw.objectType !== undefined) {
    instance.objectType = parseTypes(raw.objectType, ctx)[0];
  }
  const sub = Object.keys(raw).filter((k) => !INSTANCE_MEMBERS.has(k));
  if (sub.length > 0) {
    if (depth >= MAX_DEPTH) {
      throw new BadRequestData(`attribute ${name} nests sub-attributes deeper than ${MAX_DEPTH} levels`);
    }
    instance.sub = {};
    for (const key of sub) {
      assertName(key, `sub-attribute of ${name}`);
      instance.sub[ctx.expand(key)] = parseAttribute(`${name}.${key}`, raw[key], ctx, depth + 1);
    }
  }
  return instance;
}

function parseValueMember(name: string, type: AttributeType, raw: Json, ctx: ActiveContext): Instance {
  const missing = (member: string) =>
    new BadRequestData(`attribute ${name} is a ${type} and needs "${member}"`);
  switch (type) {
    case 'Property':
      if (raw.value === undefined || raw.value === null) throw missing('value');
      return { type, value: raw.value };
    case 'GeoProperty':
      if (raw.value === undefined || raw.value === null) throw missing('value');
      return { type, value: validateGeometry(raw.value, `${name}.value`) };
    case 'Relationship': {
      const object = raw.object;
      if (Array.isArray(object) && object.length > 0) {
        return { type, object: object.map((o, i) => assertUri(o, `${name}.object[${i}]`)) };
      }
      return { type, object: assertUri(object, `${name}.object`) };
    }
    case 'LanguageProperty':
      return { type, languageMap: parseLanguageMap(name, raw.languageMap) };
    case 'VocabProperty': {
      const vocab = raw.vocab;
      const list = typeof vocab === 'string' ? [vocab] : vocab;
      if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string'))
        throw missing('vocab');
      const expanded = list.map((v: string) => ctx.expand(v));
      return { type, vocab: typeof vocab === 'string' ? (expanded[0] as string) : expanded };
    }
    case 'JsonProperty':
      if (raw.json === undefined) throw missing('json');
      return { type, json: raw.json };
    case 'ListProperty':
      if (!Array.isArray(raw.valueList)) throw missing('valueList (an array)');
      return { type, valueList: raw.valueList };
    case 'ListRelationship':
      if (!Array.isArray(raw.objectList)) throw missing('objectList (an array of URIs)');
      return {
        type,
        objectList: raw.objectList.map((o, i) =>
          assertUri(isObject(o) ? o.object : o, `${name}.objectList[${i}]`),
        ),
      };
  }
}

function parseLanguageMap(name: string, raw: unknown): Record<string, string | string[]> {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    throw new BadRequestData(
      `attribute ${name} is a LanguageProperty and needs "languageMap" (e.g. {"ja": "…", "en": "…"})`,
    );
  }
  for (const [tag, text] of Object.entries(raw)) {
    const ok = typeof text === 'string' || (Array.isArray(text) && text.every((t) => typeof t === 'string'));
    if (!LANGUAGE_TAG.test(tag) || !ok) {
      throw new BadRequestData(
        `attribute ${name}: languageMap needs language tags (ja, en, …) with strings, not ${JSON.stringify(tag)}`,
      );
    }
  }
  return raw as Record<string, string | string[]>;
}

function parseCommonMembers(name: string, raw: Json, instance: Instance): void {
  if (raw.datasetId !== undefined) {
    instance.datasetId = assertUri(raw.datasetId, `${name}.datasetId`);
  }
  if (raw.observedAt !== undefined) {
    if (
      typeof raw.observedAt !== 'string' ||
      !DATE_TIME.test(raw.observedAt) ||
      Number.isNaN(Date.parse(raw.observedAt))
    ) {
      throw new BadRequestData(
        `${name}.observedAt must be an ISO 8601 date and time with a zone, e.g. 2026-11-24T09:00:00Z`,
      );
    }
    instance.observedAt = new Date(raw.observedAt).toISOString();
  }
  if (raw.unitCode !== undefined) {
    if (typeof raw.unitCode !== 'string' || raw.unitCode.length === 0 || raw.unitCode.length > 16) {
      throw new BadRequestData(`${name}.unitCode must be a UN/CEFACT unit code such as CEL or MTR`);
    }
    instance.unitCode = raw.unitCode;
  }
}
