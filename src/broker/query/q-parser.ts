/**
 * A recursive-descent parser for the NGSI-LD query language (ETSI GS CIM 009 v1.8 §4.9):
 *
 *   query   = or
 *   or      = and *( "|" and )
 *   and     = unary *( ";" unary )            ; AND binds tighter than OR (§4.9)
 *   unary   = "(" or ")" / "!" path / term    ; "!" = absent: an Orion-LD and Stellio extension
 *   term    = path [ op value ] / path ( "~=" / "!~=" ) regex
 *   path    = name *( "." name ) [ "[" member *( "." member ) "]" ]
 *   value   = literal [ ".." literal ] / literal 1*( "," literal )
 *
 * The text is the decoded `q` parameter. Errors are InvalidRequest naming the position.
 */
import { InvalidRequest } from '../errors.ts';
import {
  MAX_Q_DEPTH,
  MAX_Q_LENGTH,
  MAX_Q_TERMS,
  type QCompareOp,
  type QExpr,
  type QLiteral,
  type QPath,
  type QValue,
  qError,
  TIMESTAMP_MEMBERS,
  UNSTORABLE,
} from './q-ast.ts';
import { QLexer, type QToken } from './q-lexer.ts';
import { temporalLiteral, unquotedLiteral } from './q-literal.ts';
import { parsePath } from './q-path.ts';

export function parseQ(text: string): QExpr {
  if (text.length > MAX_Q_LENGTH) {
    throw new InvalidRequest(`q: the query is longer than ${MAX_Q_LENGTH} characters`);
  }
  if (text.trim() === '') {
    throw new InvalidRequest('q: the query is empty');
  }
  const bad = UNSTORABLE.exec(text);
  if (bad) {
    throw qError('unexpected NUL or unpaired surrogate character', bad.index, text);
  }
  return new QParser(text).parse();
}

class QParser {
  readonly #text: string;
  readonly #lexer: QLexer;
  #depth = 0;
  #terms = 0;

  constructor(text: string) {
    this.#text = text;
    this.#lexer = new QLexer(text);
  }

  parse(): QExpr {
    const expr = this.#or();
    const token = this.#lexer.next();
    if (token.type !== 'end') {
      throw this.#error(`expected ";", "|" or the end of the query, found ${describe(token)}`, token.pos);
    }
    return expr;
  }

  #or(): QExpr {
    const items = [this.#and()];
    while (this.#lexer.peek().type === '|') {
      this.#lexer.next();
      items.push(this.#and());
    }
    return items.length === 1 ? (items[0] as QExpr) : { kind: 'or', items };
  }

  #and(): QExpr {
    const items = [this.#unary()];
    while (this.#lexer.peek().type === ';') {
      this.#lexer.next();
      items.push(this.#unary());
    }
    return items.length === 1 ? (items[0] as QExpr) : { kind: 'and', items };
  }

  #unary(): QExpr {
    const token = this.#lexer.next();
    if (token.type === '(') {
      return this.#group(token.pos);
    }
    if (token.type === '!') {
      const path = this.#path(this.#lexer.next(), 'after "!"');
      const next = this.#lexer.peek();
      if (next.type === 'op') {
        throw this.#error('"!" tests that an attribute is absent and takes no comparison', next.pos);
      }
      return { kind: 'exists', path, negated: true };
    }
    return this.#term(this.#path(token, ''));
  }

  #group(open: number): QExpr {
    if (++this.#depth > MAX_Q_DEPTH) {
      throw this.#error(`parentheses are nested deeper than ${MAX_Q_DEPTH} levels`, open);
    }
    const expr = this.#or();
    const close = this.#lexer.next();
    if (close.type !== ')') {
      const found = close.type === 'end' ? '' : `, found ${describe(close)}`;
      throw this.#error(
        `expected ";", "|" or ")" (closing the "(" at position ${open + 1})${found}`,
        close.pos,
      );
    }
    this.#depth--;
    return expr;
  }

  #term(path: QPath): QExpr {
    const token = this.#lexer.peek();
    if (token.type === 'word' || token.type === 'string') {
      throw this.#error(`expected an operator after "${path.text}", found ${describe(token)}`, token.pos);
    }
    if (token.type !== 'op') {
      return { kind: 'exists', path, negated: false };
    }
    this.#lexer.next();
    if (token.op === '~=' || token.op === '!~=') {
      const { pattern } = this.#lexer.readRegex(token.op);
      return { kind: 'match', path, pattern, negated: token.op === '!~=' };
    }
    const value = checkedValue(path, token.op, this.#value(token.op), token.pos, this.#text);
    return { kind: 'compare', path, op: token.op, value };
  }

  #value(op: QCompareOp): QValue {
    const low = this.#literal(op);
    const next = this.#lexer.peek();
    if (next.type === '..') {
      this.#lexer.next();
      return { kind: 'range', low, high: this.#literal('..') };
    }
    if (next.type !== ',') {
      return low;
    }
    const items = [low];
    while (this.#lexer.peek().type === ',') {
      this.#lexer.next();
      items.push(this.#literal(','));
      this.#count(next.pos);
    }
    return { kind: 'list', items };
  }

  #literal(after: string): QLiteral {
    const token = this.#lexer.next();
    if (token.type === 'string') {
      return { kind: 'string', value: token.value };
    }
    if (token.type === 'word') {
      return unquotedLiteral(token.text, token.pos, this.#text);
    }
    throw this.#error(`expected a value after "${after}"`, token.pos);
  }

  #path(token: QToken, context: string): QPath {
    if (token.type !== 'word') {
      const found = token.type === 'end' ? '' : `, found ${describe(token)}`;
      throw this.#error(`expected an attribute name${context ? ` ${context}` : ''}${found}`, token.pos);
    }
    this.#count(token.pos);
    return parsePath(token.text, token.pos, this.#text);
  }

  #count(pos: number): void {
    if (++this.#terms > MAX_Q_TERMS) {
      throw this.#error(`the query has more than ${MAX_Q_TERMS} terms and listed values`, pos);
    }
  }

  #error(what: string, pos: number): InvalidRequest {
    return qError(what, pos, this.#text);
  }
}

function describe(token: QToken): string {
  switch (token.type) {
    case 'word':
      return `"${token.text}"`;
    case 'string':
      return 'a string';
    case 'op':
      return `"${token.op}"`;
    case 'end':
      return 'the end of the query';
    default:
      return `"${token.type}"`;
  }
}

/** The value rules of §4.9 that depend on the operator and on the path. */
function checkedValue(path: QPath, op: QCompareOp, value: QValue, pos: number, text: string): QValue {
  const equality = op === '==' || op === '!=';
  if (value.kind === 'range' || value.kind === 'list') {
    if (!equality) {
      throw qError(
        `a ${value.kind === 'range' ? 'range' : 'list of values'} is only allowed after "==" or "!="`,
        pos,
        text,
      );
    }
    if (value.kind === 'range' && !comparableRange(value.low, value.high)) {
      throw qError('a range needs two numbers, strings, DateTimes, Dates or Times of one kind', pos, text);
    }
  } else if (!equality && (value.kind === 'boolean' || value.kind === 'uri')) {
    const what = value.kind === 'boolean' ? 'true and false compare' : 'an unquoted URI compares';
    throw qError(`${what} only with "==" or "!=" (quote a string: "…")`, pos, text);
  }
  if (path.member && TIMESTAMP_MEMBERS.includes(path.member)) {
    return asDateTimes(value, path.member, pos, text);
  }
  return value;
}

function comparableRange(low: QLiteral, high: QLiteral): boolean {
  return low.kind === high.kind && low.kind !== 'boolean' && low.kind !== 'uri';
}

/** observedAt, createdAt and modifiedAt hold DateTimes; a quoted DateTime is accepted as one. */
function asDateTimes(value: QValue, member: string, pos: number, text: string): QValue {
  const one = (literal: QLiteral): QLiteral => {
    const parsed = literal.kind === 'string' ? temporalLiteral(literal.value) : literal;
    if (parsed === undefined || parsed === 'invalid' || parsed.kind !== 'dateTime') {
      throw qError(`"${member}" compares with DateTime values only`, pos, text);
    }
    return parsed;
  };
  if (value.kind === 'range') {
    return { kind: 'range', low: one(value.low), high: one(value.high) };
  }
  return value.kind === 'list' ? { kind: 'list', items: value.items.map(one) } : one(value);
}
