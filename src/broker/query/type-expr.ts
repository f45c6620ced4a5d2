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
import type { SqlParams } from './sql-params.ts';

export type TypeExpr = { kind: 'type'; name: string } | { kind: 'and' | 'or'; items: TypeExpr[] };

/** Longer expressions are refused before parsing. */
export const MAX_TYPE_EXPR_LENGTH = 4000;
/** Parentheses nested deeper than this are refused, so the recursive descent cannot overflow. */
export const MAX_TYPE_EXPR_DEPTH = 16;
/** Type names per expression. */
export const MAX_TYPE_NAMES = 100;

/** §4.6.2: characters a type name may not contain (`;`, `(`, `)` are operators here). */
const FORBIDDEN = /[<>"'=[\]\\]/;
const DELIMITERS = new Set([',', '|', ';', '(', ')']);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

type Token =
  | { type: ',' | '|' | ';' | '(' | ')' | 'end'; pos: number }
  | { type: 'name'; text: string; pos: number };

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
  return new TypeParser(text, label).parse();
}

/** Parses and expands in one step, as the routes need it. */
export function parseTypeSelection(text: string, expand: (term: string) => string, label = 'type'): TypeExpr {
  return expandTypeExpr(parseTypeExpr(text, label), expand);
}

class TypeParser {
  readonly #text: string;
  readonly #label: string;
  #pos = 0;
  #peeked: Token | undefined;
  #depth = 0;
  #names = 0;

  constructor(text: string, label: string) {
    this.#text = text;
    this.#label = label;
  }

  parse(): TypeExpr {
    const expr = this.#or();
    const token = this.#next();
    if (token.type !== 'end') {
      throw this.#error(`expected ",", "|", ";" or the end, found ${describe(token)}`, token.pos);
    }
    return expr;
  }

  #or(): TypeExpr {
    const items = [this.#and()];
    for (let t = this.#peek().type; t === ',' || t === '|'; t = this.#peek().type) {
      this.#next();
      items.push(this.#and());
    }
    return combine('or', items);
  }

  #and(): TypeExpr {
    const items = [this.#unary()];
    while (this.#peek().type === ';') {
      this.#next();
      items.push(this.#unary());
    }
    return combine('and', items);
  }

  #unary(): TypeExpr {
    const token = this.#next();
    if (token.type === 'name') {
      if (++this.#names > MAX_TYPE_NAMES) {
        throw this.#error(`more than ${MAX_TYPE_NAMES} type names`, token.pos);
      }
      return { kind: 'type', name: token.text };
    }
    if (token.type !== '(') {
      throw this.#error(`expected a type name or "("${found(token)}`, token.pos);
    }
    if (++this.#depth > MAX_TYPE_EXPR_DEPTH) {
      throw this.#error(`parentheses are nested deeper than ${MAX_TYPE_EXPR_DEPTH} levels`, token.pos);
    }
    const expr = this.#or();
    const close = this.#next();
    if (close.type !== ')') {
      throw this.#error(
        `expected ",", "|", ";" or ")" (closing the "(" at position ${token.pos + 1})${found(close)}`,
        close.pos,
      );
    }
    this.#depth--;
    return expr;
  }

  #peek(): Token {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  #next(): Token {
    const token = this.#peek();
    this.#peeked = undefined;
    return token;
  }

  #scan(): Token {
    const text = this.#text;
    while (isSpace(text[this.#pos])) this.#pos++;
    const pos = this.#pos;
    const c = text[pos];
    if (c === undefined) {
      return { type: 'end', pos };
    }
    if (DELIMITERS.has(c)) {
      this.#pos++;
      return { type: c as ',' | '|' | ';' | '(' | ')', pos };
    }
    let end = pos;
    while (end < text.length && !DELIMITERS.has(text[end] as string) && !isSpace(text[end])) end++;
    const name = text.slice(pos, end);
    const bad = FORBIDDEN.exec(name);
    if (bad) {
      throw this.#error(
        `"${bad[0]}" cannot be part of a type name (§4.6.2 forbids < > " ' = [ ] \\)`,
        pos + bad.index,
      );
    }
    if (name.length > 512) {
      throw this.#error('a type name is longer than 512 characters', pos);
    }
    this.#pos = end;
    return { type: 'name', text: name, pos };
  }

  #error(what: string, index: number): InvalidRequest {
    const where = index >= this.#text.length ? 'at the end' : `at position ${index + 1}`;
    return new InvalidRequest(`${this.#label}: ${what} ${where}`);
  }
}

/** One operator over its operands, with nested operands of the same operator lifted into it. */
function combine(kind: 'and' | 'or', items: TypeExpr[]): TypeExpr {
  if (items.length === 1) {
    return items[0] as TypeExpr;
  }
  return { kind, items: items.flatMap((i) => (i.kind === kind ? i.items : [i])) };
}

function describe(token: Token): string {
  if (token.type === 'name') return `"${token.text}"`;
  return token.type === 'end' ? 'the end' : `"${token.type}"`;
}

const found = (token: Token) => (token.type === 'end' ? '' : `, found ${describe(token)}`);

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
 * A type selection as SQL over a `text[]` column of expanded types. The type names under one
 * operator become one array parameter (`&&` any of them, `@>` all of them), so a plain list is the
 * single indexable test it always was; values go in as parameters only.
 */
export function compileTypeExpr(expr: TypeExpr, params: SqlParams, column = 'e.types'): string {
  if (expr.kind === 'type') {
    return `${column} && ${params.add([expr.name])}::text[]`;
  }
  const names = [...new Set(expr.items.flatMap((i) => (i.kind === 'type' ? [i.name] : [])))];
  const parts: string[] = [];
  if (names.length) {
    parts.push(`${column} ${expr.kind === 'or' ? '&&' : '@>'} ${params.add(names)}::text[]`);
  }
  for (const item of expr.items) {
    if (item.kind !== 'type') parts.push(compileTypeExpr(item, params, column));
  }
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(` ${expr.kind} `)})`;
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
