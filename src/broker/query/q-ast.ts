/**
 * The parsed form of an NGSI-LD query (ETSI GS CIM 009 v1.8 §4.9, the `q` parameter), shared by
 * the parser (q-parser.ts) and the SQL compiler (q-sql.ts). Attribute names are kept as written:
 * the compiler expands them with the request's @context.
 */
import { InvalidRequest } from '../errors.ts';

/** Longer queries are refused before parsing: nothing legitimate comes close. */
export const MAX_Q_LENGTH = 4000;
/** Parentheses nested deeper than this are refused, so the recursive-descent parser cannot overflow. */
export const MAX_Q_DEPTH = 32;
/** Query terms (and values in lists) per query: each becomes a subquery, so they bound the SQL's size. */
export const MAX_Q_TERMS = 100;

/** PostgreSQL text and jsonb hold neither NUL nor unpaired surrogates: a parameter with one fails at run time. */
export const UNSTORABLE = /[\0\p{Cs}]/u;

export type QExpr =
  | { kind: 'and'; items: QExpr[] }
  | { kind: 'or'; items: QExpr[] }
  /** A bare attribute path (§4.9 "Existence"), or its negation `!path` (an Orion-LD and Stellio extension). */
  | { kind: 'exists'; path: QPath; negated: boolean }
  | { kind: 'compare'; path: QPath; op: QCompareOp; value: QValue }
  /** `~=` and `!~=`: a POSIX regular expression (§4.9 production RegExp). */
  | { kind: 'match'; path: QPath; pattern: string; negated: boolean };

export type QCompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** Members every attribute instance may carry, addressable as the last name of a dotted path (§4.9 example 8). */
export const SYSTEM_MEMBERS = ['observedAt', 'createdAt', 'modifiedAt', 'unitCode', 'datasetId'] as const;
export type QSystemMember = (typeof SYSTEM_MEMBERS)[number];
/** System members whose values are DateTimes: they only compare with DateTime literals. */
export const TIMESTAMP_MEMBERS: readonly QSystemMember[] = ['observedAt', 'createdAt', 'modifiedAt'];

export interface QPath {
  /** The attribute, then its sub-attributes (each to be expanded), e.g. `sensor.rawdata` → ['sensor', 'rawdata']. */
  attrs: string[];
  /** A system member of the target instance, e.g. `temperature.observedAt`. */
  member?: QSystemMember;
  /**
   * The trailing path in `[...]`: JSON members inside a compound value, never expanded (§4.9 example 9);
   * for a LanguageProperty a single language tag, or `*` for any language.
   */
  trailing?: string[];
  /** The path as written, for messages. */
  text: string;
}

export type QLiteral =
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  /** Normalised for PostgreSQL's jsonpath `.datetime()`: `YYYY-MM-DDThh:mm:ss[.ffffff]±hh:mm`. */
  | { kind: 'dateTime'; iso: string }
  | { kind: 'date'; iso: string }
  /** Normalised to `hh:mm:ss[.ffffff]`, without zone: NGSI-LD times are UTC (§4.6.3). */
  | { kind: 'time'; iso: string }
  /** An unquoted URI (§4.9 production URI), compact IRI or term (as `gender==Male` in example 12). */
  | { kind: 'uri'; text: string };

export type QValue =
  | QLiteral
  | { kind: 'range'; low: QLiteral; high: QLiteral }
  | { kind: 'list'; items: QLiteral[] };

/** Every syntax error reads `q: <what> at position <n>`, with n counted from 1. */
export function qError(what: string, index: number, text: string): InvalidRequest {
  const where = index >= text.length ? 'at the end of the query' : `at position ${index + 1}`;
  return new InvalidRequest(`q: ${what} ${where}`);
}
