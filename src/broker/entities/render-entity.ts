/**
 * Renders a stored entity for a response (ETSI GS CIM 009 §4.5): normalized, concise or keyValues,
 * names and types compacted with the request's @context, filtered by attrs (pick/omit), languages
 * chosen by `lang`, system attributes only with `sysAttrs`.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { type AttributeMap, type Instance, type StoredEntity, VALUE_MEMBER } from './model.ts';

export type Format = 'normalized' | 'concise' | 'keyValues';

export interface RenderOptions {
  format: Format;
  sysAttrs: boolean;
  /** Expanded attribute IRIs to keep; undefined keeps every attribute. */
  attrs?: Set<string> | undefined;
  /** Expanded attribute IRIs to leave out. */
  omit?: Set<string> | undefined;
  /** Preferred language for LanguageProperty (`lang=ja`); `*` or undefined keeps the map. */
  lang?: string | undefined;
}

type Json = Record<string, unknown>;

function compactList(values: string | string[], ctx: ActiveContext): string | string[] {
  return Array.isArray(values) ? values.map((v) => ctx.compact(v)) : ctx.compact(values);
}

/** The language map's text in the preferred language, then Japanese, then any (§4.15). */
function pickLanguage(
  map: Record<string, string | string[]>,
  lang: string,
): { lang: string; value: string | string[] } {
  const tags = lang.split(',').map((t) => t.split(';')[0]?.trim() ?? '');
  for (const tag of [...tags, 'ja', '@none', ...Object.keys(map)]) {
    const value = map[tag];
    if (value !== undefined) {
      return { lang: tag, value };
    }
  }
  return { lang: '@none', value: '' };
}

function renderValue(instance: Instance, ctx: ActiveContext, options: RenderOptions): unknown {
  switch (instance.type) {
    case 'Relationship':
      return instance.object;
    case 'LanguageProperty':
      return options.lang && options.lang !== '*' && instance.languageMap
        ? pickLanguage(instance.languageMap, options.lang).value
        : instance.languageMap;
    case 'VocabProperty':
      return instance.vocab === undefined ? undefined : compactList(instance.vocab, ctx);
    case 'JsonProperty':
      return instance.json;
    case 'ListProperty':
      return instance.valueList;
    case 'ListRelationship':
      return instance.objectList;
    default:
      return instance.value;
  }
}

function renderInstance(instance: Instance, ctx: ActiveContext, options: RenderOptions): unknown {
  if (options.format === 'keyValues') {
    return renderValue(instance, ctx, options);
  }
  const out: Json = {};
  let type: string = instance.type;
  let member = VALUE_MEMBER[instance.type];
  if (instance.type === 'LanguageProperty' && options.lang && options.lang !== '*' && instance.languageMap) {
    // With `lang`, a LanguageProperty is shown as a Property in the chosen language (§4.5.18).
    const chosen = pickLanguage(instance.languageMap, options.lang);
    type = 'Property';
    member = 'value';
    out.value = chosen.value;
    out.lang = chosen.lang;
  } else {
    out[member] = renderValue(instance, ctx, options);
  }
  if (instance.objectType) out.objectType = ctx.compact(instance.objectType);
  if (instance.datasetId) out.datasetId = instance.datasetId;
  if (instance.observedAt) out.observedAt = instance.observedAt;
  if (instance.unitCode) out.unitCode = instance.unitCode;
  if (options.sysAttrs) {
    if (instance.createdAt) out.createdAt = instance.createdAt;
    if (instance.modifiedAt) out.modifiedAt = instance.modifiedAt;
  }
  if (instance.sub) {
    Object.assign(
      out,
      renderAttributes(instance.sub, ctx, { ...options, attrs: undefined, omit: undefined }),
    );
  }
  if (options.format === 'concise') {
    // Concise (§4.5.3): the type goes, and a lone value stands for the whole attribute.
    const keys = Object.keys(out);
    if (
      keys.length === 1 &&
      keys[0] === 'value' &&
      !(typeof out.value === 'object' && out.value !== null && type !== 'GeoProperty')
    ) {
      return out.value;
    }
    return out;
  }
  return { type, ...out };
}

export function renderAttributes(attrs: AttributeMap, ctx: ActiveContext, options: RenderOptions): Json {
  const out: Json = {};
  for (const [iri, instances] of Object.entries(attrs)) {
    if ((options.attrs && !options.attrs.has(iri)) || options.omit?.has(iri)) {
      continue;
    }
    const rendered = instances.map((i) => renderInstance(i, ctx, options));
    out[ctx.compact(iri)] = rendered.length === 1 ? rendered[0] : rendered;
  }
  return out;
}

export function renderEntity(entity: StoredEntity, ctx: ActiveContext, options: RenderOptions): Json {
  const types = entity.types.map((t) => ctx.compact(t));
  const out: Json = { id: entity.id, type: types.length === 1 ? types[0] : types };
  if (entity.scopes) {
    out.scope = entity.scopes.length === 1 ? entity.scopes[0] : entity.scopes;
  }
  if (options.sysAttrs && options.format !== 'keyValues') {
    if (entity.createdAt) out.createdAt = entity.createdAt;
    if (entity.modifiedAt) out.modifiedAt = entity.modifiedAt;
  }
  return Object.assign(out, renderAttributes(entity.attrs, ctx, options));
}
