/**
 * Compiles a parsed NGSI-LD query (ETSI GS CIM 009 §4.9) into a SQL boolean expression over the
 * entity row `e`, whose `e.attrs` has the stored form of src/broker/README.md. Every name and value
 * from the client goes in through `ctx.params`; the SQL text holds only constants.
 *
 * A term matches when ANY instance of the attribute (any datasetId) matches, and an instance
 * matches when any of its candidate values does: the elements of an array value, of a valueList,
 * objectList or vocab array, every string of a languageMap. `{"@value": …}` objects (typed
 * literals such as DateTimes) are compared by their @value.
 */
import { InvalidRequest } from '../errors.ts';
import type { QCompareOp, QExpr, QPath, QSystemMember, QValue } from './q-ast.ts';
import {
  anyPreds,
  eqPreds,
  matchPreds,
  orderPreds,
  type PredContext,
  type Preds,
  rangePreds,
  stringPreds,
} from './q-predicates.ts';
import type { SqlParams } from './sql-params.ts';

export interface QSqlContext {
  params: SqlParams;
  /** Expands a term with the request's @context (attribute names, and VocabProperty literals). */
  expand: (term: string) => string;
}

export function compileQ(expr: QExpr, ctx: QSqlContext): string {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return `(${expr.items.map((item) => compileQ(item, ctx)).join(` ${expr.kind} `)})`;
    case 'exists':
      return `${expr.negated ? 'not ' : ''}${existsSql(expr.path, ctx)}`;
    case 'compare':
      return compareSql(expr.path, expr.op, expr.value, ctx);
    case 'match':
      return matchSql(expr.path, expr.pattern, expr.negated, ctx);
  }
}

/**
 * PostgreSQL compiles a `~=` pattern only when the statement runs, and rejects a bad one with
 * SQLSTATE 2201B (invalid_regular_expression); the lexer catches only the plain mistakes. Whoever
 * runs a compiled q passes its errors through this, so a bad pattern answers 400, not 500.
 */
export function qRuntimeError(error: unknown): InvalidRequest | undefined {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== '2201B') {
    return undefined;
  }
  const reason = String((error as { message?: unknown }).message ?? '').replace(
    /^invalid regular expression: /,
    '',
  );
  return new InvalidRequest(`q: invalid regular expression: ${reason}`);
}

/** The instances a path reaches: `i1` over the attribute, `i2` over its sub-attribute, and so on. */
interface Instances {
  from: string;
  /** The innermost instance, a jsonb. */
  x: string;
}

/** Where an instance's candidate values come from, and whether the instance's type decides how to compare. */
interface Target {
  sql: string;
  typed: boolean;
}

/** Constants for the system members, so the SQL never carries the client's spelling of them. */
const MEMBER_KEYS: Record<QSystemMember, string> = {
  observedAt: `'observedAt'`,
  createdAt: `'createdAt'`,
  modifiedAt: `'modifiedAt'`,
  unitCode: `'unitCode'`,
  datasetId: `'datasetId'`,
};

function instances(path: QPath, ctx: QSqlContext): Instances {
  const from = path.attrs.map((name, i) => {
    const iri = `${ctx.params.add(ctx.expand(name))}::text`;
    const list = i === 0 ? `e.attrs -> ${iri}` : `i${i}.x -> 'sub' -> ${iri}`;
    // Lax '$[*]' lists an array's elements and yields nothing for a missing attribute.
    return `jsonb_path_query(${list}, '$[*]') as i${i + 1}(x)`;
  });
  return { from: from.join(', '), x: `i${path.attrs.length}.x` };
}

/** The jsonb holding an instance's value(s), per its type (§4.9 "target value"). */
function target(path: QPath, x: string, ctx: QSqlContext): Target {
  if (path.member) {
    return { sql: `${x} -> ${MEMBER_KEYS[path.member]}`, typed: false };
  }
  if (path.trailing) {
    return { sql: trailingTarget(path.trailing, x, ctx), typed: false };
  }
  return {
    sql: [
      `case ${x} ->> 'type'`,
      `when 'Relationship' then ${x} -> 'object'`,
      `when 'ListRelationship' then ${x} -> 'objectList'`,
      `when 'VocabProperty' then ${x} -> 'vocab'`,
      `when 'ListProperty' then ${x} -> 'valueList'`,
      `when 'JsonProperty' then ${x} -> 'json'`,
      `when 'LanguageProperty' then jsonb_path_query_array(${x} -> 'languageMap', '$.*[*]')`,
      `else ${x} -> 'value' end`,
    ].join(' '),
    typed: true,
  };
}

/**
 * `[a.b]`: members of a Property's (or JsonProperty's) value, not expanded (§4.9 examples 9–11);
 * on a LanguageProperty, `[tag]` is one language and `[*]` any. Missing members give NULL, which
 * makes the target absent, as §4.9 says of an undefined MemberExpression.
 */
function trailingTarget(trailing: string[], x: string, ctx: QSqlContext): string {
  const members = trailing.map((m) => ` -> ${ctx.params.add(m)}::text`).join('');
  const [first] = trailing;
  let language = 'null';
  if (trailing.length === 1 && first === '*') {
    language = `jsonb_path_query_array(${x} -> 'languageMap', '$.*[*]')`;
  } else if (trailing.length === 1) {
    language = `${x} -> 'languageMap'${members}`;
  }
  return [
    `case ${x} ->> 'type'`,
    `when 'Property' then ${x} -> 'value'${members}`,
    `when 'JsonProperty' then ${x} -> 'json'${members}`,
    `when 'LanguageProperty' then ${language} end`,
  ].join(' ');
}

/** The candidate values `c.v` of one instance: array elements one level down, @value unwrapped. */
function candidates(t: Target): string {
  return `lateral (select coalesce(t.r -> '@value', t.r) as v from jsonb_path_query(${t.sql}, '$[*]') as t(r)) as c`;
}

/** One predicate on `c.v`, chosen by the instance's type when the target is typed. */
function pick(preds: Preds, t: Target, x: string): string {
  if (!t.typed) {
    return preds.plain;
  }
  return [
    `case when ${x} ->> 'type' in ('Relationship', 'ListRelationship') then ${preds.object}`,
    `when ${x} ->> 'type' = 'VocabProperty' then ${preds.vocab}`,
    `else ${preds.plain} end`,
  ].join(' ');
}

/** §4.9 "Existence": the target element exists (for a trailing path or member: it is defined). */
function existsSql(path: QPath, ctx: QSqlContext): string {
  if (path.attrs.length === 1 && !path.member && !path.trailing) {
    return `(e.attrs ? ${ctx.params.add(ctx.expand(path.attrs[0] as string))}::text)`; // can use a GIN index
  }
  const inst = instances(path, ctx);
  const t = target(path, inst.x, ctx);
  return `exists (select 1 from ${inst.from} where ${t.typed ? 'true' : `${t.sql} is not null`})`;
}

function equalityPreds(value: QValue, ctx: PredContext, typed: boolean): Preds {
  switch (value.kind) {
    case 'range':
      return rangePreds(value.low, value.high, ctx);
    case 'list':
      return anyPreds(value.items.map((item) => eqPreds(item, ctx, typed)));
    default:
      return eqPreds(value, ctx, typed);
  }
}

/**
 * `!=` (§4.9 "Unequal") holds for an instance that has the target and no candidate equal to the
 * value: a value of another data type counts as unequal, and an array must not hold the value.
 */
function compareSql(path: QPath, op: QCompareOp, value: QValue, ctx: QSqlContext): string {
  const inst = instances(path, ctx);
  const t = target(path, inst.x, ctx);
  if (op === '!=') {
    const equal = pick(equalityPreds(value, ctx, t.typed), t, inst.x);
    return `exists (select 1 from ${inst.from} where ${t.sql} is not null and not exists (select 1 from ${candidates(t)} where ${equal}))`;
  }
  let preds: Preds;
  if (op === '==') {
    preds = equalityPreds(value, ctx, t.typed);
  } else if (value.kind === 'range' || value.kind === 'list') {
    throw new Error(`q: the parser let a ${value.kind} through after "${op}"`);
  } else {
    preds = orderPreds(op, value, ctx);
  }
  return `exists (select 1 from ${inst.from}, ${candidates(t)} where ${pick(preds, t, inst.x)})`;
}

/** `!~=` (§4.9 notPatternOp): the target holds strings and none matches; other data types never match. */
function matchSql(path: QPath, pattern: string, negated: boolean, ctx: QSqlContext): string {
  const inst = instances(path, ctx);
  const t = target(path, inst.x, ctx);
  const match = pick(matchPreds(pattern, ctx), t, inst.x);
  if (!negated) {
    return `exists (select 1 from ${inst.from}, ${candidates(t)} where ${match})`;
  }
  const hasString = pick(stringPreds(), t, inst.x);
  return `exists (select 1 from ${inst.from} where exists (select 1 from ${candidates(t)} where ${hasString}) and not exists (select 1 from ${candidates(t)} where ${match}))`;
}
