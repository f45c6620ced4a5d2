/**
 * The entity type selection language (ETSI GS CIM 009 v1.8 §4.17): the `type` parameter of entity
 * and temporal queries, and `entities[].type` of a Query body or a subscription.
 *
 *   selection = or
 *   or        = and *( ( "," / "|" ) and )      ; "," and "|" both mean OR
 *   and       = unary *( ";" unary )            ; an entity with several types; binds tighter, as in q
 *   unary     = "(" or ")" / name
 *
 * Names are kept as written by the parser and expanded with the request's @context afterwards
 * (`expandTypeExpr`). A plain list compiles to `types && $1::text[]`, as before, which the GIN index
 * on types answers; `A;B` to `types @> $1::text[]`, which it answers too.
 */
import { InvalidRequest } from '../errors.ts';
import { compileSelection, DELIMITERS, isSpace, parseSelection, type TermReader } from './selection.ts';
import type { SqlParams } from './sql-params.ts';

type TypeName = { kind: 'type'; name: string };
export type TypeExpr = TypeName | { kind: 'and' | 'or'; items: TypeExpr[] };

/** Longer expressions are refused before parsing. */
export const MAX_TYPE_EXPR_LENGTH = 4000;
/** Parentheses nested deeper than this are refused, so the recursive descent cannot overflow. */
export const MAX_TYPE_EXPR_DEPTH = 16;
/** Type names per expression. */
export const MAX_TYPE_NAMES = 100;

/** §4.6.2: characters a type name may not contain (`;`, `(`, `)` are operators here). */
const FORBIDDEN = /[<>"'=[\]\\]/;

const typeNameReader: TermReader<TypeName> = {
  expected: 'a type name',
  plural: 'type names',
  maxTerms: MAX_TYPE_NAMES,
  maxDepth: MAX_TYPE_EXPR_DEPTH,
  read(text, pos, fail) {
    let end = pos;
    while (end < text.length && !DELIMITERS.has(text[end] as string) && !isSpace(text[end])) end++;
    const name = text.slice(pos, end);
    const bad = FORBIDDEN.exec(name);
    if (bad) {
      throw fail(
        `"${bad[0]}" cannot be part of a type name (§4.6.2 forbids < > " ' = [ ] \\)`,
        pos + bad.index,
      );
    }
    if (name.length > 512) {
      throw fail('a type name is longer than 512 characters', pos);
    }
    return { term: { kind: 'type', name }, end };
  },
};

/**
 * Parses a type selection.
 * @param label how the client named it, for messages: `type`, `entities[0].type`
 * @throws InvalidRequest naming the position of the mistake
 */
export function parseTypeExpr(text: string, label = 'type'): TypeExpr {
  if (text.length > MAX_TYPE_EXPR_LENGTH) {
    throw new InvalidRequest(
      `${label}: the type selection is longer than ${MAX_TYPE_EXPR_LENGTH} characters`,
    );
  }
  if (text.trim() === '') {
    throw new InvalidRequest(`${label} is given but names no type`);
  }
  return parseSelection(text, label, typeNameReader) as TypeExpr;
}

/** Parses and expands in one step, as the routes need it. */
export function parseTypeSelection(text: string, expand: (term: string) => string, label = 'type'): TypeExpr {
  return expandTypeExpr(parseTypeExpr(text, label), expand);
}

export function expandTypeExpr(expr: TypeExpr, expand: (term: string) => string): TypeExpr {
  return expr.kind === 'type'
    ? { kind: 'type', name: expand(expr.name) }
    : { kind: expr.kind, items: expr.items.map((i) => expandTypeExpr(i, expand)) };
}

/** Every type the expression names, once each. */
export function typeNames(expr: TypeExpr): string[] {
  const names = (e: TypeExpr): string[] => (e.kind === 'type' ? [e.name] : e.items.flatMap(names));
  return [...new Set(names(expr))];
}

/** True when the expression is one type or types joined by OR only: "has any of these types". */
export function isTypeList(expr: TypeExpr): boolean {
  return expr.kind === 'type' || (expr.kind === 'or' && expr.items.every((i) => i.kind === 'type'));
}

/**
 * A type selection as SQL over a `text[]` column of expanded types: a plain list is the single
 * indexable `types && $1::text[]` it always was, `A;B` is `types @> $1::text[]`.
 */
export function compileTypeExpr(expr: TypeExpr, params: SqlParams, column = 'e.types'): string {
  // Every type name is a plain value, so `term` is never needed.
  return compileSelection<TypeName>(
    expr,
    params,
    column,
    (t) => t.name,
    () => 'false',
  );
}

/** Whether an entity with these (expanded) types matches the selection: the change hook's test. */
export function matchesTypeExpr(expr: TypeExpr, types: readonly string[]): boolean {
  switch (expr.kind) {
    case 'type':
      return types.includes(expr.name);
    case 'and':
      return expr.items.every((i) => matchesTypeExpr(i, types));
    case 'or':
      return expr.items.some((i) => matchesTypeExpr(i, types));
  }
}

/** Writes the expression back in the language, each name through `compact` (for GET /subscriptions). */
export function formatTypeExpr(expr: TypeExpr, compact: (iri: string) => string = (s) => s): string {
  if (expr.kind === 'type') {
    return compact(expr.name);
  }
  const items = expr.items.map((i) => {
    const text = formatTypeExpr(i, compact);
    return expr.kind === 'and' && i.kind === 'or' ? `(${text})` : text;
  });
  return items.join(expr.kind === 'and' ? ';' : '|');
}

/**
 * The type members of an entity selector: every type named (a selector matches only entities with
 * one of them, whatever the operators, so they narrow candidates by index), and the expression
 * itself when it says more than "any of these".
 */
export function typeSelector(expr: TypeExpr): { types: string[]; typeExpr?: TypeExpr } {
  return isTypeList(expr) ? { types: typeNames(expr) } : { types: typeNames(expr), typeExpr: expr };
}
