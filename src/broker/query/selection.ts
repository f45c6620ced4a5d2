/**
 * What the entity type selection (§4.17) and scope query (§4.19) languages share: terms joined by
 * `,` or `|` (OR) and `;` (AND, binding tighter, as in q), grouped by parentheses. Each language
 * supplies how one term is read (`TermReader`); the parser, its limits and its positioned messages,
 * and the compilation of the operators to SQL over a `text[]` column live here once.
 *
 *   selection = or
 *   or        = and *( ( "," / "|" ) and )
 *   and       = unary *( ";" unary )
 *   unary     = "(" or ")" / term
 */
import { InvalidRequest } from '../errors.ts';
import type { SqlParams } from './sql-params.ts';

/** A term is an object whose `kind` is neither `and` nor `or`. */
export type Selection<T> = T | { kind: 'and' | 'or'; items: Selection<T>[] };

export const DELIMITERS = new Set([',', '|', ';', '(', ')']);
export const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

export type Fail = (what: string, index: number) => InvalidRequest;

export interface TermReader<T> {
  /** What the parser expected where a term is missing, e.g. `a type name`. */
  expected: string;
  /** The terms' plural for the limit's message, e.g. `type names`. */
  plural: string;
  maxTerms: number;
  maxDepth: number;
  /** Reads the term at `pos` (neither a delimiter nor whitespace); returns it and where it ends. */
  read(text: string, pos: number, fail: Fail): { term: T; end: number };
}

type Token<T> =
  | { type: ',' | '|' | ';' | '(' | ')' | 'end'; pos: number }
  | { type: 'term'; term: T; text: string; pos: number };

export function isOperator<T>(e: Selection<T>): e is { kind: 'and' | 'or'; items: Selection<T>[] } {
  const kind = (e as { kind: string }).kind;
  return kind === 'and' || kind === 'or';
}

/** @throws InvalidRequest naming `label` and the position of the mistake */
export function parseSelection<T>(text: string, label: string, reader: TermReader<T>): Selection<T> {
  return new Parser(text, label, reader).parse();
}

class Parser<T> {
  readonly #text: string;
  readonly #label: string;
  readonly #reader: TermReader<T>;
  #pos = 0;
  #peeked: Token<T> | undefined;
  #depth = 0;
  #terms = 0;

  constructor(text: string, label: string, reader: TermReader<T>) {
    this.#text = text;
    this.#label = label;
    this.#reader = reader;
  }

  parse(): Selection<T> {
    const expr = this.#or();
    const token = this.#next();
    if (token.type !== 'end') {
      throw this.fail(`expected ",", "|", ";" or the end, found ${describe(token)}`, token.pos);
    }
    return expr;
  }

  #or(): Selection<T> {
    const items = [this.#and()];
    for (let t = this.#peek().type; t === ',' || t === '|'; t = this.#peek().type) {
      this.#next();
      items.push(this.#and());
    }
    return combine('or', items);
  }

  #and(): Selection<T> {
    const items = [this.#unary()];
    while (this.#peek().type === ';') {
      this.#next();
      items.push(this.#unary());
    }
    return combine('and', items);
  }

  #unary(): Selection<T> {
    const reader = this.#reader;
    const token = this.#next();
    if (token.type === 'term') {
      if (++this.#terms > reader.maxTerms) {
        throw this.fail(`more than ${reader.maxTerms} ${reader.plural}`, token.pos);
      }
      return token.term;
    }
    if (token.type !== '(') {
      throw this.fail(`expected ${reader.expected} or "("${found(token)}`, token.pos);
    }
    if (++this.#depth > reader.maxDepth) {
      throw this.fail(`parentheses are nested deeper than ${reader.maxDepth} levels`, token.pos);
    }
    const expr = this.#or();
    const close = this.#next();
    if (close.type !== ')') {
      throw this.fail(
        `expected ",", "|", ";" or ")" (closing the "(" at position ${token.pos + 1})${found(close)}`,
        close.pos,
      );
    }
    this.#depth--;
    return expr;
  }

  #peek(): Token<T> {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  #next(): Token<T> {
    const token = this.#peek();
    this.#peeked = undefined;
    return token;
  }

  #scan(): Token<T> {
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
    const { term, end } = this.#reader.read(text, pos, this.fail);
    this.#pos = end;
    return { type: 'term', term, text: text.slice(pos, end), pos };
  }

  readonly fail: Fail = (what, index) => {
    const where = index >= this.#text.length ? 'at the end' : `at position ${index + 1}`;
    return new InvalidRequest(`${this.#label}: ${what} ${where}`);
  };
}

/** One operator over its operands, with nested operands of the same operator lifted into it. */
function combine<T>(kind: 'and' | 'or', items: Selection<T>[]): Selection<T> {
  if (items.length === 1) {
    return items[0] as Selection<T>;
  }
  return { kind, items: items.flatMap((i) => (isOperator(i) && i.kind === kind ? i.items : [i])) };
}

function describe<T>(token: Token<T>): string {
  if (token.type === 'term') return `"${token.text}"`;
  return token.type === 'end' ? 'the end' : `"${token.type}"`;
}

const found = <T>(token: Token<T>) => (token.type === 'end' ? '' : `, found ${describe(token)}`);

/**
 * A selection as SQL over a `text[]` column. The terms under one operator that are plain values
 * (`exact`) become one array parameter (`&&` any of them, `@>` all of them), so a plain list is a
 * single test the GIN index answers; other terms compile through `term`. Values go in as parameters.
 */
export function compileSelection<T>(
  expr: Selection<T>,
  params: SqlParams,
  column: string,
  exact: (term: T) => string | undefined,
  term: (term: T) => string,
): string {
  if (!isOperator(expr)) {
    const value = exact(expr);
    return value === undefined ? term(expr) : `${column} && ${params.add([value])}::text[]`;
  }
  const values = [...new Set(expr.items.flatMap((i) => (isOperator(i) ? [] : (exact(i) ?? []))))];
  const parts: string[] = [];
  if (values.length) {
    parts.push(`${column} ${expr.kind === 'or' ? '&&' : '@>'} ${params.add(values)}::text[]`);
  }
  for (const item of expr.items) {
    if (isOperator(item) || exact(item) === undefined) {
      parts.push(compileSelection(item, params, column, exact, term));
    }
  }
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(` ${expr.kind} `)})`;
}
