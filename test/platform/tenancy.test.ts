import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addTenant,
  checkDigit,
  invalidCodeReason,
  listTenants,
  prefectureCodeOf,
} from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

describe('全国地方公共団体コード', () => {
  it('accepts real codes of prefectures, cities and special wards', () => {
    for (const code of [
      '040002',
      '041009',
      '042021',
      '042030',
      '011002',
      '131016',
      '401307',
      '110001',
      '281000',
    ]) {
      assert.equal(invalidCodeReason(code), undefined, code);
    }
  });

  it('computes check digits, also where 11 minus the remainder has two digits', () => {
    assert.equal(checkDigit('04100'), 9); // 仙台市 041009
    assert.equal(checkDigit('11000'), 1); // 埼玉県 110001: sum 11, remainder 0
    assert.equal(checkDigit('28100'), 0); // 神戸市 281000: sum 56, remainder 1
  });

  it('names the expected check digit when the code has a wrong one', () => {
    assert.match(invalidCodeReason('041008') ?? '', /check digit should be 9/);
  });

  it('rejects codes that are not six digits or name no prefecture', () => {
    assert.match(invalidCodeReason('04100') ?? '', /6 digits/);
    assert.match(invalidCodeReason('04100A') ?? '', /6 digits/);
    assert.match(invalidCodeReason('481009') ?? '', /prefecture number/);
    assert.match(invalidCodeReason('001007') ?? '', /prefecture number/);
  });

  it('finds the prefecture of a municipality', () => {
    assert.equal(prefectureCodeOf('041009'), '040002');
    assert.equal(prefectureCodeOf('131016'), '130001');
  });
});

describe(`tenant registry (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  it('adds a prefecture, then its municipalities under it', async () => {
    const miyagi = await addTenant(t.db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
    assert.equal(miyagi.kind, 'prefecture');
    const sendai = await addTenant(t.db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' });
    assert.deepEqual(sendai, {
      code: '041009',
      kind: 'municipality',
      name: '仙台市',
      nameEn: 'Sendai City',
      parentCode: '040002',
      aliases: [],
    });
    assert.deepEqual(
      (await listTenants(t.db)).map((x) => x.code),
      ['040002', '041009'],
    );
  });

  it('refuses a municipality whose prefecture is not a tenant yet', async () => {
    await assert.rejects(addTenant(t.db, { code: '011002', name: '札幌市', nameEn: 'Sapporo City' }), {
      status: 404,
      message: /add the prefecture 010006 before/,
    });
  });

  it('refuses a wrong code and a tenant added twice, with clear errors', async () => {
    await assert.rejects(addTenant(t.db, { code: '041008', name: '仙台市', nameEn: 'Sendai' }), {
      status: 400,
      message: /check digit should be 9/,
    });
    await assert.rejects(addTenant(t.db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' }), {
      status: 409,
    });
  });
});
