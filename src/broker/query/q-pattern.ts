/**
 * `~=` patterns evaluated in the API process (q-eval.ts), where PostgreSQL would run its own regular
 * expressions: as ECMAScript regular expressions, whose common syntax means the same, with
 * PostgreSQL's leading embedded options and its default of `.` matching a newline. A pattern whose
 * backtracking could take exponential time is refused: the process has no time limit for it.
 */
import { InvalidRequest, TooComplexQuery } from '../errors.ts';

const compiledPatterns = new Map<string, RegExp>();

/**
 * A `~=` pattern as an ECMAScript regular expression. Refused: a repeated group that itself repeats
 * or alternates, and back-references, whose backtracking can take exponential time.
 * @throws TooComplexQuery, InvalidRequest
 */
export function compilePattern(pattern: string): RegExp {
  const known = compiledPatterns.get(pattern);
  if (known) return known;
  if (!linearEnough(pattern)) {
    throw new TooComplexQuery(
      `q: the pattern ${JSON.stringify(pattern)} repeats a group that repeats or alternates itself, or refers back; on an encrypted attribute use a simpler one`,
    );
  }
  const { source, flags } = embeddedOptions(pattern);
  let regex: RegExp | undefined;
  for (const unicode of ['u', '']) {
    try {
      regex = new RegExp(source, flags + unicode);
      break;
    } catch {
      // Not valid with these flags: try without.
    }
  }
  if (!regex) throw new InvalidRequest(`q: invalid regular expression: ${pattern}`);
  if (compiledPatterns.size > 1000) compiledPatterns.clear();
  compiledPatterns.set(pattern, regex);
  return regex;
}

/**
 * PostgreSQL's leading embedded options (`(?i)` and the like) as flags. By default its `.` matches
 * a newline too (JavaScript's `s`); `n` (or `m`) makes it newline-sensitive, `q` the rest literal.
 */
function embeddedOptions(pattern: string): { source: string; flags: string } {
  const options = /^\(\?([a-z]+)\)/.exec(pattern);
  const flags = new Set(['s']);
  if (!options) return { source: pattern, flags: 's' };
  let source = pattern.slice(options[0].length);
  for (const option of options[1] as string) {
    if (option === 'i') flags.add('i');
    else if (option === 'c') flags.delete('i');
    else if (option === 'n' || option === 'm') {
      flags.delete('s');
      flags.add('m');
    } else if (option === 's') flags.add('s');
    else if (option === 'q') source = source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else throw new InvalidRequest(`q: the regular expression option (?${option}) is not supported here`);
  }
  return { source, flags: [...flags].join('') };
}

/** No repeated group holds a repetition or an alternation, and nothing refers back. */
function linearEnough(pattern: string): boolean {
  const groups: { risky: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && /[1-9k]/.test(pattern[i + 1] ?? '')) return false;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      groups.push({ risky: false });
    } else if (c === ')') {
      const group = groups.pop();
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || next === '{';
      if (group?.risky && repeated) return false;
      const outer = groups.at(-1);
      if (outer && (group?.risky || repeated)) outer.risky = true;
    } else if (c === '|' || c === '*' || c === '+' || c === '{') {
      const outer = groups.at(-1);
      if (outer) outer.risky = true;
    }
  }
  return true;
}
