/**
 * Attribute paths of the NGSI-LD query language (ETSI GS CIM 009 §4.9 productions Attribute,
 * ValuePath, DottedPath): `attr.subAttr[member.member]`, where a last dotted name may be a system
 * member of the instance (`temperature.observedAt`, §4.9 example 8).
 */
import { type QPath, type QSystemMember, qError, SYSTEM_MEMBERS } from './q-ast.ts';

/** AttrName (§4.9), optionally as a compact IRI `prefix:name`, which the @context expands like a term. */
const ATTR_NAME = /^\p{L}[\p{L}\p{N}_]*(?::\p{L}[\p{L}\p{N}_]*)?$/u;
/** A JSON member or a language tag inside `[...]`; hyphens allowed for tags such as `zh-Hant`. */
const MEMBER_NAME = /^\p{L}[\p{L}\p{N}_-]*$/u;
/** Entity members a `q` cannot name; each has its own parameter. */
const NOT_ATTRIBUTES: Record<string, string> = {
  id: 'select entities by id with the id or idPattern parameter',
  type: 'select entities by type with the type parameter',
  scope: 'select entities by scope with the scopeQ parameter',
};

/** Splits `a.b[c.d]` into attribute names, an optional system member and the trailing path. */
export function parsePath(word: string, pos: number, text: string): QPath {
  const brace = word.indexOf('{');
  if (brace >= 0) {
    throw qError('linked-entity paths (attr{…}, §4.5.23) are not supported', pos + brace, text);
  }
  const open = word.indexOf('[');
  const dotted = open < 0 ? word : word.slice(0, open);
  const names = dotted.split('.');
  let offset = pos;
  for (const name of names) {
    if (!ATTR_NAME.test(name)) {
      throw qError(name ? `invalid attribute name "${name}"` : 'expected an attribute name', offset, text);
    }
    offset += name.length + 1;
  }
  const first = names[0] as string;
  if (Object.hasOwn(NOT_ATTRIBUTES, first)) {
    throw qError(`"${first}" is not an attribute: ${NOT_ATTRIBUTES[first]}`, pos, text);
  }
  const path: QPath = { attrs: names, text: word };
  const memberAt = names.findIndex((name) => (SYSTEM_MEMBERS as readonly string[]).includes(name));
  if (memberAt === 0) {
    throw qError(`"${first}" is a member of an attribute, as in temperature.${first}`, pos, text);
  }
  if (memberAt > 0) {
    if (memberAt !== names.length - 1 || open >= 0) {
      throw qError(`"${names[memberAt]}" must end the attribute path`, pos, text);
    }
    path.attrs = names.slice(0, -1);
    path.member = names[memberAt] as QSystemMember;
  }
  if (open >= 0) {
    path.trailing = trailingPath(word, open, pos, text);
  }
  return path;
}

function trailingPath(word: string, open: number, pos: number, text: string): string[] {
  if (word.indexOf(']') !== word.length - 1 || word.indexOf('[', open + 1) >= 0) {
    throw qError('expected one trailing path in [...] at the end of the attribute path', pos + open, text);
  }
  const inner = word.slice(open + 1, -1);
  if (inner === '*') {
    return ['*']; // any language of a LanguageProperty (§4.9, color[*]=="red")
  }
  const members = inner.split('.');
  for (const member of members) {
    if (!MEMBER_NAME.test(member)) {
      throw qError(`invalid member name "${member}" in the trailing path`, pos + open + 1, text);
    }
  }
  return members;
}
