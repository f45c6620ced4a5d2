/**
 * Evaluates a parsed q (ETSI GS CIM 009 §4.9) on one entity in memory, with the meaning its SQL has
 * (q-sql.ts, q-predicates.ts): for attributes stored sealed (broker/sealed.ts), which only the
 * application can read once it has opened them. Every term holds when ANY instance, and within it
 * any candidate value, matches; candidates are an array's elements one level down, `{"@value": …}`
 * unwrapped. Strings order by code point (SQL's `collate "C"`); `~=` patterns: q-pattern.ts.
 */

import type { Instance, StoredEntity } from '../entities/model.ts';
import type { QExpr, QLiteral, QPath, QValue } from './q-ast.ts';
import { compilePattern } from './q-pattern.ts';

export interface QEvalContext {
  /** Expands a term with the request's @context (attribute names, and VocabProperty literals). */
  expand: (term: string) => string;
}

/** A candidate test per flavour, as in q-predicates.ts: plain values, relationships, vocab. */
interface Preds {
  plain: (v: unknown) => boolean;
  object: (v: unknown) => boolean;
  vocab: (v: unknown) => boolean;
}

type Temporal = Extract<QLiteral, { kind: 'dateTime' | 'date' | 'time' }>;

const NONE = () => false;
const plainOnly = (plain: (v: unknown) => boolean): Preds => ({ plain, object: NONE, vocab: NONE });
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** `jsonb -> key`: a member of an object, nothing for anything else. */
const member = (v: unknown, key: string) => (isObject(v) && Object.hasOwn(v, key) ? v[key] : undefined);
/** Lax `$[*]`: an array's elements, anything else itself, nothing for nothing. */
const elements = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** Code point order, which is the byte order of UTF-8 and so SQL's `collate "C"`. */
const compareText = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function matchesQ(expr: QExpr, entity: StoredEntity, ctx: QEvalContext): boolean {
  switch (expr.kind) {
    case 'and':
      return expr.items.every((item) => matchesQ(item, entity, ctx));
    case 'or':
      return expr.items.some((item) => matchesQ(item, entity, ctx));
    case 'exists':
      return exists(expr.path, entity, ctx) !== expr.negated;
    case 'compare':
      return compare(expr.path, expr.op, expr.value, entity, ctx);
    case 'match':
      return match(expr.path, expr.pattern, expr.negated, entity, ctx);
  }
}

/** The instances a path reaches: the attribute's, then its sub-attribute's, and so on. */
function instancesOf(path: QPath, entity: StoredEntity, ctx: QEvalContext): Instance[] {
  const [first, ...rest] = path.attrs;
  let found = elements(entity.attrs[ctx.expand(first as string)]) as Instance[];
  for (const name of rest) {
    found = found.flatMap((x) => elements(member(member(x, 'sub'), ctx.expand(name))) as Instance[]);
  }
  return found;
}

/** Every string of a language map (`$.*[*]`); nothing without one. */
function languageStrings(x: Instance): unknown[] | undefined {
  const map = member(x, 'languageMap');
  if (map === undefined) return undefined;
  return isObject(map) ? Object.values(map).flatMap(elements) : [];
}

/** The value(s) a path targets in one instance, and whether the instance's type picks the comparison. */
function target(path: QPath, x: Instance): { value: unknown; typed: boolean } {
  if (path.member) return { value: member(x, path.member), typed: false };
  if (path.trailing) return { value: trailingTarget(path.trailing, x), typed: false };
  const value: Record<string, () => unknown> = {
    Relationship: () => member(x, 'object'),
    ListRelationship: () => member(x, 'objectList'),
    VocabProperty: () => member(x, 'vocab'),
    ListProperty: () => member(x, 'valueList'),
    JsonProperty: () => member(x, 'json'),
    LanguageProperty: () => languageStrings(x),
  };
  return { value: (value[String(x.type)] ?? (() => member(x, 'value')))(), typed: true };
}

function trailingTarget(trailing: string[], x: Instance): unknown {
  const dig = (start: unknown) => trailing.reduce<unknown>((v, m) => member(v, m), start);
  switch (x.type) {
    case 'Property':
      return dig(member(x, 'value'));
    case 'JsonProperty':
      return dig(member(x, 'json'));
    case 'LanguageProperty':
      if (trailing.length !== 1) return undefined;
      return trailing[0] === '*'
        ? languageStrings(x)
        : member(member(x, 'languageMap'), trailing[0] as string);
    default:
      return undefined;
  }
}

const candidates = (value: unknown): unknown[] =>
  elements(value).map((r) => (isObject(r) && Object.hasOwn(r, '@value') ? r['@value'] : r));

function pick(preds: Preds, typed: boolean, x: Instance): (v: unknown) => boolean {
  if (!typed) return preds.plain;
  if (x.type === 'Relationship' || x.type === 'ListRelationship') return preds.object;
  return x.type === 'VocabProperty' ? preds.vocab : preds.plain;
}

function exists(path: QPath, entity: StoredEntity, ctx: QEvalContext): boolean {
  if (path.attrs.length === 1 && !path.member && !path.trailing) {
    return Object.hasOwn(entity.attrs, ctx.expand(path.attrs[0] as string));
  }
  return instancesOf(path, entity, ctx).some((x) => {
    const t = target(path, x);
    return t.typed || t.value !== undefined;
  });
}

function compare(path: QPath, op: string, value: QValue, entity: StoredEntity, ctx: QEvalContext): boolean {
  const preds =
    op === '==' || op === '!='
      ? equalityPreds(value, ctx)
      : orderPreds(op as '<' | '<=' | '>' | '>=', value as QLiteral);
  return instancesOf(path, entity, ctx).some((x) => {
    const t = target(path, x);
    const test = pick(preds, t.typed, x);
    if (op === '!=') return t.value !== undefined && !candidates(t.value).some(test);
    return candidates(t.value).some(test);
  });
}

function match(
  path: QPath,
  pattern: string,
  negated: boolean,
  entity: StoredEntity,
  ctx: QEvalContext,
): boolean {
  const regex = compilePattern(pattern);
  const matches = (v: unknown) => typeof v === 'string' && regex.test(v);
  const isString = (v: unknown) => typeof v === 'string';
  return instancesOf(path, entity, ctx).some((x) => {
    const t = target(path, x);
    const test = pick({ plain: matches, object: NONE, vocab: matches }, t.typed, x);
    const values = candidates(t.value);
    if (!negated) return values.some(test);
    const strings = pick({ plain: isString, object: NONE, vocab: isString }, t.typed, x);
    return values.some(strings) && !values.some(test);
  });
}

function equalityPreds(value: QValue, ctx: QEvalContext): Preds {
  if (value.kind === 'range') return rangePreds(value.low, value.high);
  if (value.kind === 'list') {
    const all = value.items.map((item) => eqPreds(item, ctx));
    return {
      plain: (v) => all.some((p) => p.plain(v)),
      object: (v) => all.some((p) => p.object(v)),
      vocab: (v) => all.some((p) => p.vocab(v)),
    };
  }
  return eqPreds(value, ctx);
}

function eqPreds(literal: QLiteral, ctx: QEvalContext): Preds {
  switch (literal.kind) {
    case 'number':
      return plainOnly((v) => typeof v === 'number' && v === Number(literal.text));
    case 'boolean':
      return plainOnly((v) => v === literal.value);
    case 'string':
    case 'uri': {
      const text = literal.kind === 'string' ? literal.value : literal.text;
      const same = (v: unknown) => v === text;
      const expanded = ctx.expand(text);
      return { plain: same, object: same, vocab: (v) => v === expanded };
    }
    default:
      return plainOnly(temporalPred(literal, (c) => c === 0));
  }
}

const ORDER = {
  '<': (c: number) => c < 0,
  '<=': (c: number) => c <= 0,
  '>': (c: number) => c > 0,
  '>=': (c: number) => c >= 0,
};

function orderPreds(op: keyof typeof ORDER, literal: QLiteral): Preds {
  const holds = ORDER[op];
  switch (literal.kind) {
    case 'number': {
      const n = Number(literal.text);
      return plainOnly((v) => typeof v === 'number' && holds(Math.sign(v - n)));
    }
    case 'string':
      return plainOnly((v) => typeof v === 'string' && holds(compareText(v, literal.value)));
    case 'dateTime':
    case 'date':
    case 'time':
      return plainOnly(temporalPred(literal, holds));
    default:
      return plainOnly(NONE);
  }
}

function rangePreds(low: QLiteral, high: QLiteral): Preds {
  if (low.kind === 'number' && high.kind === 'number') {
    const [lo, hi] = [Number(low.text), Number(high.text)];
    return plainOnly((v) => typeof v === 'number' && v >= lo && v <= hi);
  }
  if (low.kind === 'string' && high.kind === 'string') {
    return plainOnly(
      (v) => typeof v === 'string' && compareText(v, low.value) >= 0 && compareText(v, high.value) <= 0,
    );
  }
  if (isTemporal(low) && isTemporal(high) && low.kind === high.kind) {
    const atLeast = temporalPred(low, (c) => c >= 0);
    const atMost = temporalPred(high, (c) => c <= 0);
    return plainOnly((v) => atLeast(v) && atMost(v));
  }
  return plainOnly(NONE);
}

function isTemporal(literal: QLiteral): literal is Temporal {
  return literal.kind === 'dateTime' || literal.kind === 'date' || literal.kind === 'time';
}

const SHAPES: Record<Temporal['kind'], RegExp> = {
  dateTime: /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$/,
  date: /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/,
  time: /^[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?[Zz]?$/,
};

/**
 * A stored string of the literal's kind compared with it (`holds` of the comparison's sign), both
 * as microseconds; a string of another shape, or an impossible date or time, never matches.
 */
function temporalPred(literal: Temporal, holds: (c: number) => boolean): (v: unknown) => boolean {
  const bound = toMicros(literal.kind, literal.iso);
  return (v) => {
    if (typeof v !== 'string' || !SHAPES[literal.kind].test(v) || bound === undefined) return false;
    const at = toMicros(literal.kind, v);
    return at !== undefined && holds(at < bound ? -1 : at > bound ? 1 : 0);
  };
}

const DATE = /^(\d{4})-(\d\d)-(\d\d)/;
const TIME = /(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/;
const ZONE = /([Zz]|([+-])(\d\d):(\d\d))$/;

/** Microseconds since the epoch (dateTime), of the day's start (date) or since midnight (time). */
function toMicros(kind: Temporal['kind'], text: string): bigint | undefined {
  let micros = 0n;
  if (kind !== 'time') {
    const [, y, mo, d] = DATE.exec(text) ?? [];
    const day = new Date(0);
    day.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
    if (Number(y) < 1 || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) {
      return undefined;
    }
    micros = BigInt(day.getTime()) * 1000n;
    if (kind === 'date') return micros;
  }
  const [, h, mi, s, fraction = ''] = TIME.exec(kind === 'time' ? text : text.slice(11)) ?? [];
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  micros +=
    (BigInt(h ?? 0) * 3600n + BigInt(mi ?? 0) * 60n + BigInt(s ?? 0)) * 1_000_000n +
    BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  const zone = kind === 'dateTime' ? ZONE.exec(text) : null;
  if (zone?.[2]) {
    const offset = (BigInt(zone[3] as string) * 60n + BigInt(zone[4] as string)) * 60_000_000n;
    micros += zone[2] === '+' ? -offset : offset;
  }
  return micros;
}
