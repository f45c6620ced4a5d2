/**
 * The lexer of the NGSI-LD query language (ETSI GS CIM 009 §4.9). The grammar is context-sensitive
 * in one place: after `~=` comes a regular expression, which may contain `(`, `|` and `;`, so the
 * parser asks for it explicitly (`readRegex`). Whitespace between tokens is skipped, as Orion-LD does.
 */
import { qError, UNSTORABLE } from './q-ast.ts';

export type QToken =
  | { type: '(' | ')' | ';' | '|' | ',' | '..' | '!' | 'end'; pos: number }
  | { type: 'op'; op: '==' | '!=' | '<' | '<=' | '>' | '>=' | '~=' | '!~='; pos: number }
  /** An attribute path or an unquoted value: the parser tells which. */
  | { type: 'word'; text: string; pos: number }
  | { type: 'string'; value: string; pos: number };

/** Characters that end a word; `..` ends one too (a range). */
const DELIMITERS = new Set(['(', ')', ';', '|', ',', '"', '=', '!', '<', '>', '~', '&']);
const OPERATORS = ['!~=', '==', '!=', '<=', '>=', '~=', '<', '>'] as const;
/** A DateTime whose `+` offset became a space through form-style URL decoding, e.g. `…T12:00:00 09:00`. */
const DATETIME_BEFORE_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?$/;
const SPACED_OFFSET = /^ (\d\d:\d\d)(?=$|[\s();|,]|\.\.)/;

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

export class QLexer {
  readonly text: string;
  #pos = 0;
  #peeked: QToken | undefined;

  constructor(text: string) {
    this.text = text;
  }

  peek(): QToken {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  next(): QToken {
    const token = this.peek();
    this.#peeked = undefined;
    return token;
  }

  /**
   * The regular expression after `~=` / `!~=`: a quoted JSON string (any regex), or the raw text up
   * to a `;`, `|` or `)` outside the regex's own groups and bracket expressions — so a top-level
   * alternation must be quoted or parenthesised: `name~=(a|b)`.
   */
  readRegex(after: string): { pattern: string; pos: number } {
    if (this.#peeked) {
      throw new Error('readRegex after peek');
    }
    this.#skipSpace();
    const start = this.#pos;
    if (this.text[start] === '"') {
      const token = this.#string();
      const problem = scanRegex(token.value, 0, false);
      if (problem.error) {
        throw qError(`${problem.error} in the regular expression`, start, this.text);
      }
      return { pattern: token.value, pos: start };
    }
    const { end, error } = scanRegex(this.text, start, true);
    if (error) {
      throw qError(`${error} in the regular expression`, end, this.text);
    }
    if (end === start) {
      throw qError(`expected a regular expression after "${after}"`, start, this.text);
    }
    this.#pos = end;
    return { pattern: this.text.slice(start, end), pos: start };
  }

  #skipSpace(): void {
    while (isSpace(this.text[this.#pos])) {
      this.#pos++;
    }
  }

  #scan(): QToken {
    this.#skipSpace();
    const pos = this.#pos;
    const c = this.text[pos];
    if (c === undefined) {
      return { type: 'end', pos };
    }
    if (c === '(' || c === ')' || c === ';' || c === '|' || c === ',') {
      this.#pos++;
      return { type: c, pos };
    }
    if (this.text.startsWith('..', pos)) {
      this.#pos += 2;
      return { type: '..', pos };
    }
    if (c === '"') {
      return this.#string();
    }
    const op = OPERATORS.find((o) => this.text.startsWith(o, pos));
    if (op) {
      this.#pos += op.length;
      return { type: 'op', op, pos };
    }
    if (c === '!') {
      this.#pos++;
      return { type: '!', pos };
    }
    if (c === '&') {
      throw qError('unexpected "&" (the AND operator is ";")', pos, this.text);
    }
    if (DELIMITERS.has(c)) {
      const hint = c === '=' ? ' (equality is "==")' : '';
      throw qError(`unexpected "${c}"${hint}`, pos, this.text);
    }
    return this.#word();
  }

  #word(): QToken {
    const pos = this.#pos;
    let end = pos;
    while (end < this.text.length) {
      const c = this.text[end] as string;
      if (DELIMITERS.has(c) || isSpace(c) || this.text.startsWith('..', end)) {
        break;
      }
      end++;
    }
    let text = this.text.slice(pos, end);
    const offset = DATETIME_BEFORE_OFFSET.test(text) ? SPACED_OFFSET.exec(this.text.slice(end)) : null;
    if (offset) {
      text += `+${offset[1]}`;
      end += offset[0].length;
    }
    this.#pos = end;
    return { type: 'word', text, pos };
  }

  /** A JSON string (RFC 8259 §7), as §4.9's quotedStr requires; JSON.parse decodes its escapes. */
  #string(): Extract<QToken, { type: 'string' }> {
    const pos = this.#pos;
    let end = pos + 1;
    while (end < this.text.length && this.text[end] !== '"') {
      end += this.text[end] === '\\' ? 2 : 1;
    }
    if (end >= this.text.length) {
      throw qError('unterminated string starting', pos, this.text);
    }
    this.#pos = end + 1;
    let value: string;
    try {
      value = JSON.parse(this.text.slice(pos, end + 1)) as string;
    } catch {
      throw qError('invalid string (a bad escape or a control character)', pos, this.text);
    }
    if (UNSTORABLE.test(value)) {
      throw qError('invalid string (\\u0000 or an unpaired surrogate)', pos, this.text);
    }
    return { type: 'string', value, pos };
  }
}

/**
 * Walks a POSIX regular expression far enough to find where it ends (when `stop`) and to catch the
 * mistakes that are plain to see — unbalanced groups, an unclosed bracket expression, a trailing
 * backslash. PostgreSQL still compiles it at run time; see `qRuntimeError` in q-sql.ts.
 */
export function scanRegex(text: string, start: number, stop: boolean): { end: number; error?: string } {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      if (i + 1 >= text.length) {
        return { end: i, error: 'a trailing backslash' };
      }
      i += 2;
    } else if (c === '[') {
      const close = bracketEnd(text, i);
      if (close < 0) {
        return { end: i, error: 'an unclosed "["' };
      }
      i = close + 1;
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')' && depth === 0) {
      return stop ? { end: i } : { end: i, error: 'an unbalanced ")"' };
    } else if (c === ')') {
      depth--;
      i++;
    } else if (stop && depth === 0 && (c === ';' || c === '|')) {
      return { end: i };
    } else {
      i++;
    }
  }
  return depth > 0 ? { end: i, error: 'an unclosed "("' } : { end: i };
}

/** The index of the `]` closing the bracket expression opened at `open`, or -1. */
function bracketEnd(text: string, open: number): number {
  let i = open + 1;
  if (text[i] === '^') {
    i++;
  }
  if (text[i] === ']') {
    i++; // a leading "]" is a member, not the end
  }
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (c === ']') {
      return i;
    }
    if (c === '[' && (n === ':' || n === '.' || n === '=')) {
      const close = text.indexOf(`${n}]`, i + 2); // [:alpha:], [.x.], [=x=]
      if (close < 0) {
        return -1;
      }
      i = close + 2;
    } else {
      i += c === '\\' ? 2 : 1;
    }
  }
  return -1;
}
