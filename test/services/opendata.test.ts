import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { readStandardDataset } from '../../src/services/opendata/index.ts';
import { type BrokerTest, ngsi, startBroker } from '../broker/helpers.ts';
import { backend } from '../helpers/db.ts';

const csv = (file: string) =>
  fs.readFileSync(new URL(`../../src/demo/data/${file}`, import.meta.url), 'utf8');

describe('自治体標準オープンデータセット import', () => {
  it('turns each 指定緊急避難場所 row into an EvacuationSite with its place, hazards and capacity', () => {
    const sites = readStandardDataset('103', '122033', csv('122033_103_evacuation_space.csv'));
    assert.equal(sites.length, 5);
    const first = sites[0] as Record<string, { value?: unknown; valueList?: unknown; languageMap?: unknown }>;
    assert.equal(
      first.id,
      'urn:ngsi-ld:EvacuationSite:122033:%E7%9C%8C%E7%AB%8B%E5%9B%BD%E5%88%86%E9%AB%98%E6%A0%A1%40%E5%8D%83%E8%91%89%E7%9C%8C%E5%B8%82%E5%B7%9D%E5%B8%82%E7%A8%B2%E8%B6%8A2%E4%B8%81%E7%9B%AE2-1',
    );
    assert.deepEqual(first.name?.languageMap, { ja: '県立国分高校' });
    assert.deepEqual(first.location?.value, { type: 'Point', coordinates: [139.927977, 35.75359] });
    assert.deepEqual(first.hazardTypes?.valueList, [
      'flood',
      'landslide',
      'stormSurge',
      'earthquake',
      'tsunami',
      'inlandFlooding',
    ]);
    assert.equal(first.isDesignatedShelter?.value, true);
    assert.equal((first.nameKana as { value: string }).value, 'ケンリツコクブンコウコウ');
  });

  it('reads 公共施設, 子育て施設 and AED設置箇所 too', () => {
    assert.equal(readStandardDataset('101', '122033', csv('122033_101_public_facility.csv')).length, 5);
    const preschools = readStandardDataset('105', '122033', csv('122033_105_preschool.csv'));
    assert.equal((preschools[0] as { category: { value: string } }).category.value, '私立幼稚園');
    const aeds = readStandardDataset('108', '122033', csv('122033_108_aed.csv'));
    assert.equal((aeds[0] as { installationPlace: { value: string } }).installationPlace.value, '正面玄関');
  });

  it('names the line and column of a bad row, and an unknown dataset', () => {
    const lines = csv('122033_103_evacuation_space.csv').split('\n');
    const noName = [lines[0], lines[1], lines[2]?.replace('大町小学校', '')].join('\n');
    assert.throws(() => readStandardDataset('103', '122033', noName), /line 3: 名称 is empty/);
    const badLatitude = [lines[0], lines[1]?.replace('35.75359', '135.75')].join('\n');
    assert.throws(
      () => readStandardDataset('103', '122033', badLatitude),
      /line 2: 緯度 "135.75" is not a coordinate between 20 and 46/,
    );
    assert.throws(
      () => readStandardDataset('999', '122033', lines.join('\n')),
      /dataset 999 is not one of 101, 103, 105, 108/,
    );
  });
});

describe(`demo open data in the broker (${backend})`, () => {
  let b: BrokerTest;
  before(async () => {
    b = await startBroker();
  });
  after(() => b.close());

  it("loads 市川市's shelters, facilities, nurseries and AEDs, queryable by place", async () => {
    const tenant = { 'ngsild-tenant': '122033' };
    const count = async (type: string) =>
      (await ngsi(b.app, 'GET', `/entities?type=${type}&count=true&limit=0`, undefined, tenant)).headers[
        'ngsild-results-count'
      ];
    assert.deepEqual(
      [
        await count('EvacuationSite'),
        await count('PublicFacility'),
        await count('ChildcareFacility'),
        await count('AED'),
      ],
      ['5', '5', '5', '5'],
    );
    // Within 1 km of 大町小学校 (139.9570, 35.7718).
    const near = await ngsi(
      b.app,
      'GET',
      `/entities?type=EvacuationSite&georel=${encodeURIComponent('near;maxDistance==1000')}&geometry=Point&coordinates=${encodeURIComponent('[139.9570251,35.77180422]')}&options=keyValues&attrs=name`,
      undefined,
      tenant,
    );
    assert.equal(near.statusCode, 200, near.body);
    assert.ok(near.json().some((e: { name: { ja: string } }) => e.name.ja === '大町小学校'));
    const other = await ngsi(b.app, 'GET', '/entities?type=EvacuationSite', undefined, {
      'ngsild-tenant': '041009',
    });
    assert.deepEqual(other.json(), []);
  });
});
