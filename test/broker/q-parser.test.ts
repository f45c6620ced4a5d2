import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequest } from '../../src/broker/errors.ts';
import type { QExpr, QPath } from '../../src/broker/query/q-ast.ts';
import { parseQ } from '../../src/broker/query/q-parser.ts';

const path = (text: string, extra: Partial<QPath> = {}): QPath => ({ attrs: [text], text, ...extra });
const exists = (name: string): QExpr => ({ kind: 'exists', path: path(name), negated: false });
const num = (name: string, op: '==' | '>' | '<=' | '>=' | '<', text: string): QExpr => ({
  kind: 'compare',
  path: path(name),
  op,
  value: { kind: 'number', text },
});

function rejects(q: string, message: string | RegExp): void {
  assert.throws(
    () => parseQ(q),
    (e: unknown) => {
      assert.ok(e instanceof InvalidRequest, String(e));
      assert.equal(e.status, 400);
      if (typeof message === 'string') {
        assert.equal(e.message, message);
      } else {
        assert.match(e.message, message);
      }
      return true;
    },
    q,
  );
}

describe('q parser: the examples of ETSI GS CIM 009 §4.9', () => {
  it('reads a bare attribute as existence (example 0)', () => {
    assert.deepEqual(parseQ('temperature'), exists('temperature'));
  });

  it('reads numbers, quoted strings and quoted URIs (examples 1–3)', () => {
    assert.deepEqual(parseQ('temperature==20'), num('temperature', '==', '20'));
    assert.deepEqual(parseQ('brandName!="Mercedes"'), {
      kind: 'compare',
      path: path('brandName'),
      op: '!=',
      value: { kind: 'string', value: 'Mercedes' },
    });
    assert.deepEqual(parseQ('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"'), {
      kind: 'compare',
      path: path('isParked'),
      op: '==',
      value: { kind: 'string', value: 'urn:ngsi-ld:OffStreetParking:Downtown1' },
    });
  });

  it('groups with parentheses and lets ";" bind tighter than "|" (examples 4, 6, 7)', () => {
    const brand: QExpr = {
      kind: 'compare',
      path: path('brandName'),
      op: '==',
      value: { kind: 'string', value: 'Mercedes' },
    };
    assert.deepEqual(parseQ('((speed>50|rpm>3000);brandName=="Mercedes")'), {
      kind: 'and',
      items: [{ kind: 'or', items: [num('speed', '>', '50'), num('rpm', '>', '3000')] }, brand],
    });
    assert.deepEqual(parseQ('(temperature>=20;temperature<=25)|capacity<=10'), {
      kind: 'or',
      items: [
        { kind: 'and', items: [num('temperature', '>=', '20'), num('temperature', '<=', '25')] },
        num('capacity', '<=', '10'),
      ],
    });
    assert.deepEqual(parseQ('a|b;c'), {
      kind: 'or',
      items: [exists('a'), { kind: 'and', items: [exists('b'), exists('c')] }],
    });
  });

  it('reads a dotted path ending in a system member, with a DateTime normalised (example 8)', () => {
    assert.deepEqual(parseQ('temperature.observedAt>=2017-12-24T12:00:00Z'), {
      kind: 'compare',
      path: { attrs: ['temperature'], member: 'observedAt', text: 'temperature.observedAt' },
      op: '>=',
      value: { kind: 'dateTime', iso: '2017-12-24T12:00:00+00:00' },
    });
  });

  it('reads trailing paths into compound values (examples 9–11)', () => {
    assert.deepEqual(parseQ('address[city]=="Berlin"'), {
      kind: 'compare',
      path: { attrs: ['address'], trailing: ['city'], text: 'address[city]' },
      op: '==',
      value: { kind: 'string', value: 'Berlin' },
    });
    assert.deepEqual(parseQ('sensor.rawdata[airquality.particulate]==40'), {
      kind: 'compare',
      path: {
        attrs: ['sensor', 'rawdata'],
        trailing: ['airquality', 'particulate'],
        text: 'sensor.rawdata[airquality.particulate]',
      },
      op: '==',
      value: { kind: 'number', text: '40' },
    });
  });

  it('reads an unquoted term for a VocabProperty (example 12)', () => {
    assert.deepEqual(parseQ('gender==Male'), {
      kind: 'compare',
      path: path('gender'),
      op: '==',
      value: { kind: 'uri', text: 'Male' },
    });
  });

  it('refuses linked-entity paths, which need other entities (example 13)', () => {
    rejects(
      'sensor{humidity}==40',
      'q: linked-entity paths (attr{…}, §4.5.23) are not supported at position 7',
    );
  });
});

describe('q parser: values', () => {
  const value = (q: string) => {
    const expr = parseQ(q);
    assert.equal(expr.kind, 'compare');
    return expr.kind === 'compare' ? expr.value : undefined;
  };

  it('reads ranges and value lists', () => {
    assert.deepEqual(value('temperature==10..20'), {
      kind: 'range',
      low: { kind: 'number', text: '10' },
      high: { kind: 'number', text: '20' },
    });
    assert.deepEqual(value('a==1.5..2.5e1'), {
      kind: 'range',
      low: { kind: 'number', text: '1.5' },
      high: { kind: 'number', text: '2.5e1' },
    });
    assert.deepEqual(value('color!="black","red",true,urn:x:y'), {
      kind: 'list',
      items: [
        { kind: 'string', value: 'black' },
        { kind: 'string', value: 'red' },
        { kind: 'boolean', value: true },
        { kind: 'uri', text: 'urn:x:y' },
      ],
    });
  });

  it('reads JSON numbers, booleans and JSON string escapes', () => {
    assert.deepEqual(value('a==-1.5e-3'), { kind: 'number', text: '-1.5e-3' });
    assert.deepEqual(value('a==0'), { kind: 'number', text: '0' });
    assert.deepEqual(value('a==false'), { kind: 'boolean', value: false });
    assert.deepEqual(value('a=="caf\\u00e9 \\"x\\" ; | )"'), { kind: 'string', value: 'café "x" ; | )' });
    assert.deepEqual(value('a=="2017-12-24"'), { kind: 'string', value: '2017-12-24' });
  });

  it('reads Dates, Times and DateTimes with zones, keeping microseconds at most', () => {
    assert.deepEqual(value('a==2017-12-24'), { kind: 'date', iso: '2017-12-24' });
    assert.deepEqual(value('a<12:30:00.5Z'), { kind: 'time', iso: '12:30:00.5' });
    assert.deepEqual(value('a<2017-12-24T12:00:00.123456789+09:00'), {
      kind: 'dateTime',
      iso: '2017-12-24T12:00:00.123456+09:00',
    });
    assert.deepEqual(value('a<2017-12-24T12:00:00'), { kind: 'dateTime', iso: '2017-12-24T12:00:00+00:00' });
    assert.deepEqual(value('a==2024-02-29'), { kind: 'date', iso: '2024-02-29' });
  });

  it('restores a "+" that form-style URL decoding turned into a space in a DateTime', () => {
    assert.deepEqual(value('a>2017-12-24T12:00:00 09:00'), {
      kind: 'dateTime',
      iso: '2017-12-24T12:00:00+09:00',
    });
  });

  it('accepts a quoted DateTime for observedAt, createdAt and modifiedAt', () => {
    assert.deepEqual(value('a.modifiedAt=="2020-01-01T00:00:00Z","2021-01-01T00:00:00Z"'), {
      kind: 'list',
      items: [
        { kind: 'dateTime', iso: '2020-01-01T00:00:00+00:00' },
        { kind: 'dateTime', iso: '2021-01-01T00:00:00+00:00' },
      ],
    });
  });
});

describe('q parser: paths, patterns and layout', () => {
  it('reads Unicode and compact-IRI attribute names, language tags and [*]', () => {
    assert.deepEqual(parseQ('収容人数>100'), num('収容人数', '>', '100'));
    assert.deepEqual(parseQ('schema:name'), exists('schema:name'));
    assert.deepEqual(parseQ('constructor'), exists('constructor'));
    const name = (q: string) => {
      const expr = parseQ(q);
      return expr.kind === 'compare' ? expr.path.trailing : undefined;
    };
    assert.deepEqual(name('color[*]=="red"'), ['*']);
    assert.deepEqual(name('name[zh-Hant]=="紅"'), ['zh-Hant']);
  });

  it('reads "!" before a path as absence', () => {
    assert.deepEqual(parseQ('!isMonitoredBy;a'), {
      kind: 'and',
      items: [{ kind: 'exists', path: path('isMonitoredBy'), negated: true }, exists('a')],
    });
  });

  it('reads patterns up to a ";", "|" or ")" outside their own groups and brackets', () => {
    const pattern = (q: string) => {
      const expr = parseQ(q);
      return expr.kind === 'match' ? [expr.pattern, expr.negated] : expr.kind === 'and' ? expr.items : expr;
    };
    assert.deepEqual(pattern('name~=^Mer.*'), ['^Mer.*', false]);
    assert.deepEqual(pattern('name!~=(a|b)c'), ['(a|b)c', true]);
    assert.deepEqual(pattern('name~="a|b;c"'), ['a|b;c', false]);
    assert.deepEqual(pattern('name~=[)|;]x'), ['[)|;]x', false]);
    assert.deepEqual(pattern('name~=[]|]x'), ['[]|]x', false]);
    assert.deepEqual(pattern('name~=[[:alpha:]]+'), ['[[:alpha:]]+', false]);
    assert.deepEqual(pattern('name~=\\(x\\)'), ['\\(x\\)', false]);
    assert.deepEqual(pattern('(name~=a.b)'), ['a.b', false]);
    assert.deepEqual(pattern('name~=a;b'), [
      { kind: 'match', path: path('name'), pattern: 'a', negated: false },
      exists('b'),
    ]);
  });

  it('skips whitespace between tokens', () => {
    assert.deepEqual(parseQ(' a >= 1 ;\tb '), { kind: 'and', items: [num('a', '>=', '1'), exists('b')] });
  });

  it('accepts 32 levels of parentheses and 100 terms', () => {
    assert.deepEqual(parseQ(`${'('.repeat(32)}a${')'.repeat(32)}`), exists('a'));
    assert.equal((parseQ(Array(100).fill('a').join(';')) as { items: unknown[] }).items.length, 100);
  });
});

describe('q parser: errors name what was expected and where', () => {
  it('refuses empty, overlong, too deep and too large queries', () => {
    rejects('', 'q: the query is empty');
    rejects('   ', 'q: the query is empty');
    rejects('a'.repeat(4001), 'q: the query is longer than 4000 characters');
    rejects(
      `${'('.repeat(33)}a${')'.repeat(33)}`,
      'q: parentheses are nested deeper than 32 levels at position 33',
    );
    rejects(
      Array(101).fill('a').join(';'),
      'q: the query has more than 100 terms and listed values at position 201',
    );
    rejects(
      `a==${Array.from({ length: 101 }, (_, i) => i).join(',')}`,
      /more than 100 terms and listed values/,
    );
  });

  it('names the missing value after an operator, a comma or ".."', () => {
    rejects('temperature==', 'q: expected a value after "==" at the end of the query');
    rejects('a==;b', 'q: expected a value after "==" at position 4');
    rejects('a>=)', 'q: expected a value after ">=" at position 4');
    rejects('a==1,', 'q: expected a value after "," at the end of the query');
    rejects('a==1..', 'q: expected a value after ".." at the end of the query');
  });

  it('names a missing attribute', () => {
    rejects(';a', 'q: expected an attribute name, found ";" at position 1');
    rejects('a;', 'q: expected an attribute name at the end of the query');
    rejects('a|', 'q: expected an attribute name at the end of the query');
    rejects('()', 'q: expected an attribute name, found ")" at position 2');
    rejects('!', 'q: expected an attribute name after "!" at the end of the query');
    rejects('!(a)', 'q: expected an attribute name after "!", found "(" at position 2');
    rejects('a.', 'q: expected an attribute name at the end of the query');
    rejects('.a', 'q: expected an attribute name at position 1');
  });

  it('refuses operators the language does not have', () => {
    rejects('a=1', 'q: unexpected "=" (equality is "==") at position 2');
    rejects('a==1&b==2', 'q: unexpected "&" (the AND operator is ";") at position 5');
    rejects('a~1', 'q: unexpected "~" at position 2');
    rejects('!a==1', 'q: "!" tests that an attribute is absent and takes no comparison at position 3');
  });

  it('names what should follow a term or close a group', () => {
    rejects('a b', 'q: expected an operator after "a", found "b" at position 3');
    rejects('a=="x"y', 'q: expected ";", "|" or the end of the query, found "y" at position 7');
    rejects('a)', 'q: expected ";", "|" or the end of the query, found ")" at position 2');
    rejects('(a==1', 'q: expected ";", "|" or ")" (closing the "(" at position 1) at the end of the query');
    rejects(
      '(a==1 2',
      'q: expected ";", "|" or ")" (closing the "(" at position 1), found "2" at position 7',
    );
  });

  it('refuses attribute names outside the grammar and entity members', () => {
    rejects('1a==1', 'q: invalid attribute name "1a" at position 1');
    rejects('a.1b', 'q: invalid attribute name "1b" at position 3');
    rejects('a-b==1', 'q: invalid attribute name "a-b" at position 1');
    rejects(
      'id==urn:x:1',
      /^q: "id" is not an attribute: select entities by id with the id or idPattern parameter/,
    );
    rejects(
      'type==Shelter',
      /^q: "type" is not an attribute: select entities by type with the type parameter/,
    );
    rejects('scope', /^q: "scope" is not an attribute/);
    rejects(
      'observedAt>2020-01-01T00:00:00Z',
      /^q: "observedAt" is a member of an attribute, as in temperature/,
    );
    rejects('a.observedAt.b', 'q: "observedAt" must end the attribute path at position 1');
    rejects('a.unitCode[x]', 'q: "unitCode" must end the attribute path at position 1');
  });

  it('refuses malformed trailing paths', () => {
    const one = 'expected one trailing path in [...] at the end of the attribute path at position 2';
    rejects('a[x', `q: ${one}`);
    rejects('a[x]b', `q: ${one}`);
    rejects('a[x][y]', `q: ${one}`);
    rejects('a[1x]', 'q: invalid member name "1x" in the trailing path at position 3');
    rejects('a[]', 'q: invalid member name "" in the trailing path at position 3');
  });

  it('refuses malformed strings, numbers, dates and times', () => {
    rejects('a==1;b=="x', 'q: unterminated string starting at position 9');
    rejects('a=="\\x"', 'q: invalid string (a bad escape or a control character) at position 4');
    rejects('a=="tab\there"', /invalid string/);
    rejects('a=="\\u0000"', 'q: invalid string (\\u0000 or an unpaired surrogate) at position 4');
    rejects('a=="\\ud800"', /unpaired surrogate/);
    rejects('a==1;b=="x\0"', 'q: unexpected NUL or unpaired surrogate character at position 11');
    rejects('a==1e5000', 'q: the number 1e5000 is out of range at position 4');
    rejects(
      'a==01',
      /^q: "01" is not a number, boolean, date, time or URI \(quote a string: "…"\) at position 4$/,
    );
    rejects('a==1.', /^q: "1\." is not a number/);
    rejects('a==@x', /^q: "@x" is not a number/);
    rejects('a==2021-02-29', 'q: "2021-02-29" is not a valid date or time at position 4');
    rejects('a==0000-01-01', /"0000-01-01" is not a valid date/);
    rejects('a>2020-13-01T00:00:00Z', 'q: "2020-13-01T00:00:00Z" is not a valid date or time at position 3');
    rejects('a>2020-01-01T00:00:00+24:00', /is not a valid date or time/);
    rejects('a==25:00:00', 'q: "25:00:00" is not a valid date or time at position 4');
  });

  it('refuses values the operator does not take', () => {
    rejects('a>1..5', 'q: a range is only allowed after "==" or "!=" at position 2');
    rejects('a<1,2', 'q: a list of values is only allowed after "==" or "!=" at position 2');
    rejects(
      'a==1.."x"',
      'q: a range needs two numbers, strings, DateTimes, Dates or Times of one kind at position 2',
    );
    rejects('a==true..false', /a range needs two numbers/);
    rejects('a==urn:x..urn:y', /a range needs two numbers/);
    rejects('a>true', 'q: true and false compare only with "==" or "!=" (quote a string: "…") at position 2');
    rejects(
      'a>urn:x',
      'q: an unquoted URI compares only with "==" or "!=" (quote a string: "…") at position 2',
    );
    rejects('temperature.observedAt==5', 'q: "observedAt" compares with DateTime values only at position 23');
    rejects('temperature.createdAt=="yesterday"', /"createdAt" compares with DateTime values only/);
    rejects('temperature.observedAt==2020-01-01', /"observedAt" compares with DateTime values only/);
  });

  it('refuses patterns that are missing or plainly broken', () => {
    rejects('a~=', 'q: expected a regular expression after "~=" at the end of the query');
    rejects('a!~=;b', 'q: expected a regular expression after "!~=" at position 5');
    rejects('a~=(x', 'q: an unclosed "(" in the regular expression at the end of the query');
    rejects('a~=[x', 'q: an unclosed "[" in the regular expression at position 4');
    rejects('a~=[[:alpha:]', /an unclosed "\["/);
    rejects('a~=x\\', 'q: a trailing backslash in the regular expression at position 5');
    rejects('a!~="(x"', 'q: an unclosed "(" in the regular expression at position 5');
    rejects('a~="x)"', 'q: an unbalanced ")" in the regular expression at position 4');
  });
});
