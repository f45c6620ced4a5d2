/**
 * Unquoted values of the NGSI-LD query language (ETSI GS CIM 009 §4.9): JSON numbers and booleans
 * (RFC 8259), DateTime, Date and Time (§4.6.3), URIs (RFC 3986), and bare terms for VocabProperties
 * (§4.9 example 12). Values are checked here, so the SQL never meets one PostgreSQL would reject.
 */
import { type QLiteral, qError } from './q-ast.ts';

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE]([+-]?\d+))?$/;
/** PostgreSQL's numeric overflows near 1e131072 and underflows near 1e-16383; stay far inside. */
const MAX_EXPONENT = 1000;
const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:(Z|z)|([+-])(\d\d):(\d\d))?$/;
const DATE = /^(\d{4})-(\d\d)-(\d\d)$/;
const TIME = /^(\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(Z|z)?$/;
/** RFC 3986 scheme ":" then anything a URI may hold unquoted here. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>\\^`{}|]*$/u;
const TERM = /^\p{L}[\p{L}\p{N}_]*$/u;

/** Classifies an unquoted value at `pos` of `text`, or throws naming what was wrong. */
export function unquotedLiteral(word: string, pos: number, text: string): QLiteral {
  if (word === 'true' || word === 'false') {
    return { kind: 'boolean', value: word === 'true' };
  }
  const number = NUMBER.exec(word);
  if (number) {
    if (Math.abs(Number(number[1] ?? 0)) > MAX_EXPONENT) {
      throw qError(`the number ${word} is out of range`, pos, text);
    }
    return { kind: 'number', text: word };
  }
  const temporal = temporalLiteral(word);
  if (temporal === 'invalid') {
    throw qError(`"${word}" is not a valid date or time`, pos, text);
  }
  if (temporal) {
    return temporal;
  }
  if (URI.test(word) || TERM.test(word)) {
    return { kind: 'uri', text: word };
  }
  throw qError(`"${word}" is not a number, boolean, date, time or URI (quote a string: "…")`, pos, text);
}

/** A DateTime, Date or Time literal; undefined when `word` has none of their shapes. */
export function temporalLiteral(word: string): QLiteral | 'invalid' | undefined {
  const dt = DATE_TIME.exec(word);
  if (dt) {
    const [, y, mo, d, h, mi, s, fraction, , sign, oh, om] = dt;
    const valid = isDate(y, mo, d) && isTime(h, mi, s) && (!sign || (Number(oh) <= 23 && Number(om) <= 59));
    const zone = sign ? `${sign}${oh}:${om}` : '+00:00'; // no zone means UTC (§4.6.3)
    return valid
      ? { kind: 'dateTime', iso: `${y}-${mo}-${d}T${h}:${mi}:${s}${micros(fraction)}${zone}` }
      : 'invalid';
  }
  const date = DATE.exec(word);
  if (date) {
    const [, y, mo, d] = date;
    return isDate(y, mo, d) ? { kind: 'date', iso: word } : 'invalid';
  }
  const time = TIME.exec(word);
  if (time) {
    const [, h, mi, s, fraction] = time;
    return isTime(h, mi, s) ? { kind: 'time', iso: `${h}:${mi}:${s}${micros(fraction)}` } : 'invalid';
  }
  return undefined;
}

/** PostgreSQL keeps microseconds; finer digits are dropped, as it would round them anyway. */
function micros(fraction: string | undefined): string {
  return fraction ? `.${fraction.slice(0, 6)}` : '';
}

function isDate(y = '', mo = '', d = ''): boolean {
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // unlike Date.UTC, keeps years below 100
  // Year 0 has no PostgreSQL date (it counts 1 BC), so it could never match.
  return Number(y) > 0 && date.getUTCMonth() === Number(mo) - 1 && date.getUTCDate() === Number(d);
}

function isTime(h = '', mi = '', s = ''): boolean {
  return Number(h) <= 23 && Number(mi) <= 59 && Number(s) <= 59;
}
