/**
 * 5374 garbage schedules: 金沢市's real area_days.csv and center.csv (test/fixtures/5374-kanazawa,
 * from the 5374 project) read and expanded into collection days, checked day by day against the
 * calendar of December 2013 and January 2014; every kind of bad cell named by line and column.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { ValidationFailed } from '../../src/platform/index.ts';
import {
  type AreaSchedule,
  collectionDays,
  readAreaDays,
  readCentres,
} from '../../src/services/calendar/garbage-5374.ts';

const fixture = (file: string) =>
  fs.readFileSync(new URL(`../fixtures/5374-kanazawa/${file}`, import.meta.url), 'utf8');

const WINTER = { from: '2013-12-01', to: '2014-01-31' };

function daysOf(
  schedule: AreaSchedule,
  category: string,
  options: Parameters<typeof collectionDays>[2] = {},
) {
  return collectionDays(schedule, WINTER, options)
    .filter((d) => d.category === category)
    .map((d) => d.date.slice(5));
}

/** The problems a ValidationFailed names, as "name: reason". */
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationFailed, String(error));
    return (error.extensions.invalidParams as { name: string; reason: string }[]).map(
      (p) => `${p.name}: ${p.reason}`,
    );
  }
  assert.fail('expected a ValidationFailed');
}

describe('5374 garbage schedules', () => {
  const areas = readAreaDays(fixture('area_days.csv'));
  const pauses = readCentres(fixture('center.csv'));
  const asano = areas.find((a) => a.area === '浅野') as AreaSchedule;

  it("reads 金沢市's areas, their centres and one rule list per category", () => {
    assert.equal(areas.length, fixture('area_days.csv').trim().split('\n').length - 1);
    assert.equal(asano.center, '東部管理センター');
    assert.deepEqual(
      asano.categories.map((c) => [c.category, c.rules]),
      [
        [
          '燃やすごみ',
          [
            { kind: 'weekly', weekday: 1 },
            { kind: 'weekly', weekday: 4 },
          ],
        ],
        ['燃やさないごみ', [{ kind: 'nth', weekday: 3, nth: 2 }]],
        [
          '資源',
          [
            { kind: 'nth', weekday: 2, nth: 1 },
            { kind: 'nth', weekday: 2, nth: 3 },
          ],
        ],
        ['びん', [{ kind: 'nth', weekday: 3, nth: 4 }]],
      ],
    );
    assert.deepEqual(pauses, [
      { centre: '西部管理センター', from: '2013-12-29', to: '2014-01-03' },
      { centre: '東部管理センター', from: '2013-12-29', to: '2014-01-03' },
    ]);
  });

  it('expands weekly and nth-weekday rules, and skips the days the centre pauses over New Year', () => {
    assert.deepEqual(daysOf(asano, '燃やすごみ', { pauses }), [
      '12-02',
      '12-05',
      '12-09',
      '12-12',
      '12-16',
      '12-19',
      '12-23',
      '12-26',
      // 12-30 (Mon) and 01-02 (Thu) fall in the pause.
      '01-06',
      '01-09',
      '01-13',
      '01-16',
      '01-20',
      '01-23',
      '01-27',
      '01-30',
    ]);
    assert.deepEqual(daysOf(asano, '燃やさないごみ', { pauses }), ['12-11', '01-08']);
    assert.deepEqual(daysOf(asano, '資源', { pauses }), ['12-03', '12-17', '01-07', '01-21']);
    assert.deepEqual(daysOf(asano, 'びん', { pauses }), ['12-25', '01-22']);
    assert.ok(
      daysOf(asano, '燃やすごみ').includes('12-30'),
      'without the pause the Monday is a collection day',
    );
  });

  it('applies the holiday exceptions staff enter: moved, cancelled, for one area or all', () => {
    const exceptions = [
      // 成人の日: burnable garbage moves to the next day in every area.
      { date: '2014-01-13', category: '燃やすごみ', moveTo: '2014-01-14' },
      // A storm: no collection at all in 浅野 on 01-21.
      { date: '2014-01-21', area: '浅野' },
      { date: '2014-01-23', area: '朝日', category: '燃やすごみ' },
    ];
    const burnable = daysOf(asano, '燃やすごみ', { pauses, exceptions });
    assert.ok(burnable.includes('01-14') && !burnable.includes('01-13'));
    assert.ok(burnable.includes('01-23'), "another area's exception does not apply");
    assert.deepEqual(daysOf(asano, '資源', { pauses, exceptions }), ['12-03', '12-17', '01-07']);
    const moved = collectionDays(asano, { from: '2014-01-14', to: '2014-01-14' }, { exceptions });
    assert.deepEqual(
      moved,
      [{ date: '2014-01-14', category: '燃やすごみ', remarks: [] }],
      'moved in from outside the period',
    );
  });

  it('reads month lists, fifth weekdays, explicit dates, fortnightly rules and remarks', () => {
    const [area] = readAreaDays(
      '地名,センター,古紙,粗大ごみ,剪定枝,ペットボトル\n' +
        '本町,,水2 *1:4 6 8 10 12 2,木5,20131210 20140115,隔月20131202\n',
    );
    assert.ok(area);
    assert.deepEqual(daysOf(area, '古紙'), ['12-11'], 'only in the months listed: December, not January');
    assert.deepEqual(area.categories[0]?.remarks, [1]);
    assert.deepEqual(
      daysOf(area, '粗大ごみ'),
      ['01-30'],
      'December 2013 has four Thursdays, January 2014 five',
    );
    assert.deepEqual(daysOf(area, '剪定枝'), ['12-10', '01-15']);
    assert.deepEqual(daysOf(area, 'ペットボトル'), ['12-02', '12-16', '12-30', '01-13', '01-27']);
  });

  it('names every bad cell by line and column, and imports nothing', () => {
    const problems = problemsOf(() =>
      readAreaDays(
        '地名,センター,燃やすごみ,資源\n' +
          '浅野,東部,月 火8,水0\n' +
          '浅野,東部,20140230,隔火20140106\n' +
          '朝日,東部,月:13,木\n' +
          ',東部,月\n',
      ),
    );
    assert.deepEqual(problems, [
      'line 2, 燃やすごみ: "火8" is not a day: use 月…日 (every week), 水2 (the 2nd Wednesday), YYYYMMDD, 隔水YYYYMMDD or *1 (a remark)',
      'line 2, 資源: "水0" is not a day: use 月…日 (every week), 水2 (the 2nd Wednesday), YYYYMMDD, 隔水YYYYMMDD or *1 (a remark)',
      'line 3, 地名: 浅野 is listed twice',
      'line 3, 燃やすごみ: 20140230 is not a date',
      'line 3, 資源: 隔火20140106: 2014-01-06 is not a 火曜日',
      'line 4, 燃やすごみ: "13" after the colon is not a month (1–12)',
      'line 4, 燃やすごみ: the colon must be followed by months (1–12)',
      'line 5, 地名: the area has no name',
      'line 5: 3 columns where the header has 4',
    ]);
    assert.deepEqual(
      problemsOf(() =>
        readCentres('名称,休止開始日,休止終了日\n東部,2014/01/03,2013/12/29\n西部,2013/13/01,\n'),
      ),
      [
        'line 2: the pause ends (2013-12-29) before it starts (2014-01-03)',
        'line 3, 休止開始日: "2013/13/01" is not a date (YYYY/MM/DD)',
        'line 3, 休止終了日: "" is not a date (YYYY/MM/DD)',
      ],
    );
    assert.throws(() => collectionDays(asano, { from: '2014-02-01', to: '2014-01-01' }), ValidationFailed);
  });
});
