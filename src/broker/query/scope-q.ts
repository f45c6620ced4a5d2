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
import {
  compileSelection,
  DELIMITERS,
  type Fail,
  isSpace,
  parseSelection,
  type TermReader,
} from './selection.ts';
import type { SqlParams } from './sql-params.ts';

type Scope = { kind: 'scope'; levels: string[]; subtree: boolean };
export type ScopeQ =
  /** `levels` as written; `+` stands for any one level; `subtree` for a trailing `/#`. */
  Scope | { kind: 'and' | 'or'; items: ScopeQ[] };

export const MAX_SCOPE_Q_LENGTH = 4000;
export const MAX_SCOPE_Q_DEPTH = 16;
export const MAX_SCOPE_TERMS = 100;

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
  return parseSelection(text, label, scopeReader) as ScopeQ;
}

const scopeReader: TermReader<Scope> = {
  expected: 'a scope such as "/Miyagi/Sendai"',
  plural: 'scopes',
  maxTerms: MAX_SCOPE_TERMS,
  maxDepth: MAX_SCOPE_Q_DEPTH,
  read(text, pos, fail) {
    if (text[pos] !== '/') {
      throw fail('a scope starts with "/"', pos);
    }
    let end = pos;
    while (end < text.length && !DELIMITERS.has(text[end] as string) && !endsScope(text, end)) end++;
    return { term: readScope(text, pos, end, fail), end };
  },
};

/** Whitespace ends a scope, except a lone space as a level: a `+` that URL decoding turned into one. */
function endsScope(text: string, i: number): boolean {
  if (!isSpace(text[i])) return false;
  const after = text[i + 1];
  const levelEnds = after === undefined || after === '/' || DELIMITERS.has(after) || isSpace(after);
  return !(text[i] === ' ' && text[i - 1] === '/' && levelEnds);
}

/** The levels of the scope at text[start, end), which starts with "/". */
function readScope(text: string, start: number, end: number, fail: Fail): Scope {
  const levels: string[] = [];
  let subtree = false;
  let at = start + 1;
  for (const raw of text.slice(start + 1, end).split('/')) {
    const level = raw === ' ' ? '+' : raw;
    if (subtree) {
      throw fail('"#" may only end a scope (as in "/Miyagi/#")', at - 2);
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
      throw fail(what, at);
    } else if (level !== '+') {
      const bad = /[#+]/.exec(level);
      if (bad) {
        throw fail(`"${bad[0]}" must be a whole level ("/${bad[0]}")`, at + bad.index);
      }
      levels.push(level);
    } else {
      levels.push('+');
    }
    at += raw.length + 1;
  }
  return { kind: 'scope', levels, subtree };
}

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
 * then matches nothing). Exact scopes under one operator become one array parameter; `+` and `/#`
 * become an anchored regular expression built from escaped levels and passed as a parameter.
 */
export function compileScopeQ(expr: ScopeQ, params: SqlParams, column = 'e.scopes'): string {
  return compileSelection<Scope>(expr, params, column, exactScope, (scope) =>
    scope.levels.length === 0
      ? `coalesce(cardinality(${column}), 0) > 0`
      : `exists (select 1 from unnest(${column}) as s(scope) where s.scope ~ ${params.add(scopePattern(scope))})`,
  );
}
