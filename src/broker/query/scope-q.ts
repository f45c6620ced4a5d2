/**
 * The scope query language (ETSI GS CIM 009 v1.8 §4.19), the `scopeQ` parameter and Query member:
 *
 *   query = or
 *   or    = and *( ( "," / "|" ) and )        ; OR ("|" as in q)
 *   and   = unary *( ";" unary )              ; AND binds tighter, as in q
 *   unary = "(" or ")" / scope
 *   scope = "/#" / 1*( "/" level ) [ "/#" ]   ; "/#": any scope; "/A/#": A and everything below it
 *   level = "+" / 1*levelChar                 ; "+": any one level
 *
 * A scope term matches an entity when one of its scopes matches; an entity without scope matches
 * none. `+` in a URL is form-decoded to a space before the broker sees it, so a level that is a
 * single space is read as `+` (send `%2B` to be exact).
 */
import { InvalidRequest } from '../errors.ts';
import type { SqlParams } from './sql-params.ts';

export type ScopeQ =
  /** `levels` as written; `+` stands for any one level; `subtree` for a trailing `/#`. */
  { kind: 'scope'; levels: string[]; subtree: boolean } | { kind: 'and' | 'or'; items: ScopeQ[] };

export const MAX_SCOPE_Q_LENGTH = 4000;
export const MAX_SCOPE_Q_DEPTH = 16;
export const MAX_SCOPE_TERMS = 100;

const DELIMITERS = new Set([',', '|', ';', '(', ')']);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

type Token =
  | { type: ',' | '|' | ';' | '(' | ')' | 'end'; pos: number }
  | { type: 'scope'; scope: Extract<ScopeQ, { kind: 'scope' }>; text: string; pos: number };

/**
 * @param label how the client named it, for messages
 * @throws InvalidRequest naming the position of the mistake
 */
export function parseScopeQ(text: string, label = 'scopeQ'): ScopeQ {
  if (text.length > MAX_SCOPE_Q_LENGTH) {
    throw new InvalidRequest(`${label}: the query is longer than ${MAX_SCOPE_Q_LENGTH} characters`);
  }
  if (text.trim() === '') {
    throw new InvalidRequest(`${label}: the query is empty`);
  }
  return new ScopeParser(text, label).parse();
}

class ScopeParser {
  readonly #text: string;
  readonly #label: string;
  #pos = 0;
  #peeked: Token | undefined;
  #depth = 0;
  #terms = 0;

  constructor(text: string, label: string) {
    this.#text = text;
    this.#label = label;
  }

  parse(): ScopeQ {
    const expr = this.#or();
    const token = this.#next();
    if (token.type !== 'end') {
      throw this.#error(`expected ",", "|", ";" or the end, found ${describe(token)}`, token.pos);
    }
    return expr;
  }

  #or(): ScopeQ {
    const items = [this.#and()];
    for (let t = this.#peek().type; t === ',' || t === '|'; t = this.#peek().type) {
      this.#next();
      items.push(this.#and());
    }
    return combine('or', items);
  }

  #and(): ScopeQ {
    const items = [this.#unary()];
    while (this.#peek().type === ';') {
      this.#next();
      items.push(this.#unary());
    }
    return combine('and', items);
  }

  #unary(): ScopeQ {
    const token = this.#next();
    if (token.type === 'scope') {
      if (++this.#terms > MAX_SCOPE_TERMS) {
        throw this.#error(`more than ${MAX_SCOPE_TERMS} scopes`, token.pos);
      }
      return token.scope;
    }
    if (token.type !== '(') {
      throw this.#error(`expected a scope such as "/Miyagi/Sendai" or "("${found(token)}`, token.pos);
    }
    if (++this.#depth > MAX_SCOPE_Q_DEPTH) {
      throw this.#error(`parentheses are nested deeper than ${MAX_SCOPE_Q_DEPTH} levels`, token.pos);
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
    if (c !== '/') {
      throw this.#error('a scope starts with "/"', pos);
    }
    let end = pos;
    while (end < text.length && !DELIMITERS.has(text[end] as string) && !this.#endsScope(end)) end++;
    this.#pos = end;
    return { type: 'scope', scope: this.#scope(pos, end), text: text.slice(pos, end), pos };
  }

  /** Whitespace ends a scope, except a lone space as a level: a `+` that URL decoding turned into one. */
  #endsScope(i: number): boolean {
    const text = this.#text;
    if (!isSpace(text[i])) return false;
    const after = text[i + 1];
    const levelEnds = after === undefined || after === '/' || DELIMITERS.has(after) || isSpace(after);
    return !(text[i] === ' ' && text[i - 1] === '/' && levelEnds);
  }

  /** The levels of the scope at text[start, end), which starts with "/". */
  #scope(start: number, end: number): Extract<ScopeQ, { kind: 'scope' }> {
    const levels: string[] = [];
    let subtree = false;
    let at = start + 1;
    for (const raw of this.#text.slice(start + 1, end).split('/')) {
      const level = raw === ' ' ? '+' : raw;
      if (subtree) {
        throw this.#error('"#" may only end a scope (as in "/Miyagi/#")', at - 2);
      }
      if (level === '#') {
        subtree = true;
      } else if (level === '') {
        const last = at >= end;
        const what = !last
          ? 'a scope level is empty'
          : levels.length
            ? 'a scope does not end with "/"'
            : 'expected a scope level after "/"';
        throw this.#error(what, at);
      } else if (level !== '+') {
        const bad = /[#+]/.exec(level);
        if (bad) {
          throw this.#error(`"${bad[0]}" must be a whole level ("/${bad[0]}")`, at + bad.index);
        }
        levels.push(level);
      } else {
        levels.push('+');
      }
      at += raw.length + 1;
    }
    return { kind: 'scope', levels, subtree };
  }

  #error(what: string, index: number): InvalidRequest {
    const where = index >= this.#text.length ? 'at the end' : `at position ${index + 1}`;
    return new InvalidRequest(`${this.#label}: ${what} ${where}`);
  }
}

function combine(kind: 'and' | 'or', items: ScopeQ[]): ScopeQ {
  if (items.length === 1) {
    return items[0] as ScopeQ;
  }
  return { kind, items: items.flatMap((i) => (i.kind === kind ? i.items : [i])) };
}

function describe(token: Token): string {
  if (token.type === 'scope') return `"${token.text}"`;
  return token.type === 'end' ? 'the end' : `"${token.type}"`;
}

const found = (token: Token) => (token.type === 'end' ? '' : `, found ${describe(token)}`);

/** A scope without `+` or `/#`, which only equality can match. */
const exactScope = (s: ScopeQ): string | undefined =>
  s.kind === 'scope' && !s.subtree && !s.levels.includes('+') ? `/${s.levels.join('/')}` : undefined;

/** Regular-expression metacharacters of PostgreSQL's ARE, each escaped to stand for itself. */
const escapeRegex = (level: string) => level.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&');

/** The anchored pattern a stored scope must match for a term with `+` or `/#`. */
export function scopePattern(scope: { levels: string[]; subtree: boolean }): string {
  const levels = scope.levels.map((l) => (l === '+' ? '/[^/]+' : `/${escapeRegex(l)}`)).join('');
  return `^${levels}${scope.subtree ? '(/.*)?' : ''}$`;
}

/**
 * A scope query as SQL over a `text[]` column of scopes (null for an entity without scope, which
 * then matches nothing). Exact scopes under one operator become one array parameter (`&&` any of
 * them, `@>` all of them); `+` and `/#` become an anchored regular expression built from escaped
 * levels and passed as a parameter.
 */
export function compileScopeQ(expr: ScopeQ, params: SqlParams, column = 'e.scopes'): string {
  if (expr.kind === 'scope') {
    const exact = exactScope(expr);
    if (exact !== undefined) {
      return `${column} && ${params.add([exact])}::text[]`;
    }
    if (expr.levels.length === 0) {
      return `coalesce(cardinality(${column}), 0) > 0`;
    }
    return `exists (select 1 from unnest(${column}) as s(scope) where s.scope ~ ${params.add(scopePattern(expr))})`;
  }
  const exact = [...new Set(expr.items.flatMap((s) => exactScope(s) ?? []))];
  const parts: string[] = [];
  if (exact.length) {
    parts.push(`${column} ${expr.kind === 'or' ? '&&' : '@>'} ${params.add(exact)}::text[]`);
  }
  for (const item of expr.items) {
    if (exactScope(item) === undefined) parts.push(compileScopeQ(item, params, column));
  }
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(` ${expr.kind} `)})`;
}
