/**
 * SQL predicates on one candidate value `c.v` (jsonb) of a query term (ETSI GS CIM 009 §4.9).
 * Each predicate comes in three flavours, because the comparison depends on the attribute's type,
 * known only per row: `plain` (Property, LanguageProperty, ListProperty, JsonProperty values),
 * `object` (Relationship, ListRelationship: only == and != match) and `vocab` (VocabProperty:
 * the literal is expanded first). No predicate can raise an error for any stored value: jsonb
 * comparisons never fail, and the one conversion that can (text to a timestamp) sits in a CASE
 * behind a shape test and runs as a silent jsonpath.
 */

import type { QLiteral } from './q-ast.ts';
import type { SqlParams } from './sql-params.ts';

export interface Preds {
  plain: string;
  object: string;
  vocab: string;
}

export interface PredContext {
  params: SqlParams;
  expand: (term: string) => string;
}

type OrderOp = '<' | '<=' | '>' | '>=';
type Temporal = Extract<QLiteral, { kind: 'dateTime' | 'date' | 'time' }>;

const NONE = 'false';
/** The text of a string candidate; `#>> '{}'` never fails, whatever the jsonb holds. */
const TEXT = `(c.v #>> '{}')`;
/** Keeps at most microseconds, which is all PostgreSQL's datetime() reads (Go writes nanoseconds). */
const MICROS = (s: string) => `regexp_replace(${s}, '([.][0-9]{6})[0-9]+', E'\\\\1')`;

/**
 * What a stored string must look like before PostgreSQL reads it as a DateTime, Date or Time, and
 * how it is normalised: PostgreSQL 15 does not read a `Z` zone, and comparing a zoned timestamp with
 * an unzoned one raises an error even in a silent jsonpath, so an unzoned DateTime never matches.
 */
const TEMPORAL: Record<Temporal['kind'], { shape: string; norm: (s: string) => string }> = {
  dateTime: {
    shape: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$',
    norm: (s) => `regexp_replace(${MICROS(s)}, '[Zz]$', '+00:00')`,
  },
  date: { shape: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', norm: (s) => s },
  time: {
    shape: '^[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?[Zz]?$',
    norm: (s) => `regexp_replace(${MICROS(s)}, '[Zz]$', '')`,
  },
};

const plainOnly = (plain: string): Preds => ({ plain, object: NONE, vocab: NONE });

/**
 * `==` (§4.9 "Equal"): the value is the literal, or an array value holds it. `typed` asks for the
 * VocabProperty flavour too; without it no parameter is added for it, as PostgreSQL rejects a
 * statement with a parameter it never uses (it cannot infer its type).
 */
export function eqPreds(literal: QLiteral, ctx: PredContext, typed: boolean): Preds {
  switch (literal.kind) {
    case 'number':
      return plainOnly(`c.v = ${ctx.params.add(literal.text)}::jsonb`);
    case 'boolean':
      return plainOnly(`c.v = ${ctx.params.add(String(literal.value))}::jsonb`);
    case 'string':
    case 'uri': {
      const text = literal.kind === 'string' ? literal.value : literal.text;
      const same = `c.v = ${ctx.params.add(JSON.stringify(text))}::jsonb`;
      if (!typed) {
        return { plain: same, object: same, vocab: NONE };
      }
      const vocab = `c.v = ${ctx.params.add(JSON.stringify(ctx.expand(text)))}::jsonb`;
      return { plain: same, object: same, vocab };
    }
    default:
      return plainOnly(temporalPred(literal.kind, '==', { a: literal.iso }, ctx));
  }
}

/** `<`, `<=`, `>`, `>=`: numbers with numbers, strings with strings (by code point), times with times. */
export function orderPreds(op: OrderOp, literal: QLiteral, ctx: PredContext): Preds {
  switch (literal.kind) {
    case 'number':
      return plainOnly(`(jsonb_typeof(c.v) = 'number' and c.v ${op} ${ctx.params.add(literal.text)}::jsonb)`);
    case 'string':
      return plainOnly(
        `(jsonb_typeof(c.v) = 'string' and ${TEXT} collate "C" ${op} ${ctx.params.add(literal.value)}::text)`,
      );
    case 'dateTime':
    case 'date':
    case 'time':
      return plainOnly(temporalPred(literal.kind, op, { a: literal.iso }, ctx));
    default:
      return plainOnly(NONE); // the parser allows no booleans or URIs here
  }
}

/** `==a..b` (§4.9 Range): both bounds included; the parser made sure they are of one kind. */
export function rangePreds(low: QLiteral, high: QLiteral, ctx: PredContext): Preds {
  if (low.kind === 'number' && high.kind === 'number') {
    const [lo, hi] = [ctx.params.add(low.text), ctx.params.add(high.text)];
    return plainOnly(`(jsonb_typeof(c.v) = 'number' and c.v >= ${lo}::jsonb and c.v <= ${hi}::jsonb)`);
  }
  if (low.kind === 'string' && high.kind === 'string') {
    const [lo, hi] = [ctx.params.add(low.value), ctx.params.add(high.value)];
    const text = `${TEXT} collate "C"`;
    return plainOnly(`(jsonb_typeof(c.v) = 'string' and ${text} >= ${lo}::text and ${text} <= ${hi}::text)`);
  }
  if (isTemporal(low) && isTemporal(high)) {
    return plainOnly(temporalPred(low.kind, '..', { lo: low.iso, hi: high.iso }, ctx));
  }
  return plainOnly(NONE);
}

/** Any of several predicates (a value list, §4.9 ValueList). */
export function anyPreds(all: Preds[]): Preds {
  const or = (pick: (p: Preds) => string) => {
    const parts = all.map(pick).filter((p) => p !== NONE);
    return parts.length === 0 ? NONE : `(${parts.join(' or ')})`;
  };
  return { plain: or((p) => p.plain), object: or((p) => p.object), vocab: or((p) => p.vocab) };
}

/**
 * `~=` (§4.9 patternOp): a POSIX regular expression, which PostgreSQL's `~` implements (as its
 * "advanced" flavour, a superset). Only strings match; Relationships never do (§4.9).
 */
export function matchPreds(pattern: string, ctx: PredContext): Preds {
  const pred = `(jsonb_typeof(c.v) = 'string' and ${TEXT} ~ ${ctx.params.add(pattern)}::text)`;
  return { plain: pred, object: NONE, vocab: pred };
}

/** Whether a candidate is a string a pattern could be tried on (for `!~=`). */
export function stringPreds(): Preds {
  const pred = `jsonb_typeof(c.v) = 'string'`;
  return { plain: pred, object: NONE, vocab: pred };
}

function isTemporal(literal: QLiteral): literal is Temporal {
  return literal.kind === 'dateTime' || literal.kind === 'date' || literal.kind === 'time';
}

/**
 * Compares a stored DateTime, Date or Time with the literal through jsonpath's datetime(), which a
 * silent jsonpath turns into "no match" for a well-shaped but impossible value such as Feb 31.
 */
function temporalPred(
  kind: Temporal['kind'],
  op: '==' | OrderOp | '..',
  vars: Record<string, string>,
  ctx: PredContext,
): string {
  const { shape, norm } = TEMPORAL[kind];
  const filter =
    op === '..'
      ? '$ ? (@.datetime() >= $lo.datetime() && @.datetime() <= $hi.datetime())'
      : `$ ? (@.datetime() ${op} $a.datetime())`;
  const value = `to_jsonb(${norm(TEXT)})`;
  const test = `jsonb_path_exists(${value}, '${filter}', ${ctx.params.add(JSON.stringify(vars))}::jsonb, true)`;
  return `(case when jsonb_typeof(c.v) = 'string' and ${TEXT} ~ '${shape}' then ${test} else false end)`;
}
