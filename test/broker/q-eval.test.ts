/**
 * The in-memory evaluation of q, for attributes stored sealed (src/broker/query/q-eval.ts): the
 * same answers as the SQL compiler on the same entities, and patterns that could run for ever in
 * the API process refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEntity } from '../../src/broker/entities/model.ts';
import { InvalidRequest, TooComplexQuery } from '../../src/broker/errors.ts';
import { matchesQ } from '../../src/broker/query/q-eval.ts';
import { parseQ } from '../../src/broker/query/q-parser.ts';
import { compilePattern } from '../../src/broker/query/q-pattern.ts';
import { CASES, expand, SHELTERS, stored } from './q-cases.ts';

const entities: StoredEntity[] = Object.entries(SHELTERS).map(([n, attrs]) => ({
  id: n,
  types: ['Shelter'],
  scopes: null,
  attrs: JSON.parse(JSON.stringify(stored(attrs))),
}));

function run(q: string): string[] {
  const expr = parseQ(q);
  return entities
    .filter((e) => matchesQ(expr, e, { expand }))
    .map((e) => e.id)
    .sort();
}

describe('q evaluated in memory, as SQL evaluates it', () => {
  for (const [q, expected] of CASES) {
    it(`selects ${expected.length ? expected.join(', ') : 'nothing'} for ${q}`, () => {
      assert.deepEqual(run(q), expected);
    });
  }

  it("matches . across lines, as PostgreSQL's regular expressions do, unless (?n) says otherwise", () => {
    assert.equal(compilePattern('a.b').test('a\nb'), true);
    assert.equal(compilePattern('(?n)a.b').test('a\nb'), false);
    assert.equal(compilePattern('(?q)a.b').test('axb'), false);
    assert.equal(compilePattern('(?q)a.b').test('a.b'), true);
  });

  it('refuses patterns whose backtracking could take exponential time', () => {
    for (const pattern of ['(a+)+$', '(a|aa)*b', '(x*y?)*', '(a)\\1', '((ab)*c)+']) {
      assert.throws(() => compilePattern(pattern), TooComplexQuery, pattern);
    }
    for (const pattern of ['^Sen(dai|da)$', '(ab)*c', '[(+]*', 'a\\(b+\\)*', '(?i)^open$']) {
      assert.doesNotThrow(() => compilePattern(pattern), pattern);
    }
    assert.throws(() => compilePattern('a**'), InvalidRequest);
  });
});
