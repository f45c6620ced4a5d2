/**
 * 自治体標準オープンデータセット (the Digital Agency's standard open data sets for municipalities) as
 * NGSI-LD entities: 公共施設, 指定緊急避難場所, 子育て施設 and AED設置箇所 CSVs become one entity per
 * row, with a GeoProperty `location`, so the dashboard and services can query them by place.
 * Each row is checked; a bad row is reported with its line and column and nothing is imported.
 */
import { parse } from 'csv-parse/sync';
import { BadRequest } from '../../platform/index.ts';

type Row = Record<string, string>;
type Entity = Record<string, unknown>;

export interface DatasetKind {
  /** The dataset's number in the standard (101 公共施設 …). */
  code: string;
  /** NGSI-LD entity type. */
  type: string;
  /** 名称 of the dataset, for messages. */
  label: string;
  /** Attributes particular to the dataset. */
  extra(row: Row): Entity;
}

const HAZARDS: [string, string][] = [
  ['災害種別_洪水', 'flood'],
  ['災害種別_崖崩れ、土石流及び地滑り', 'landslide'],
  ['災害種別_高潮', 'stormSurge'],
  ['災害種別_地震', 'earthquake'],
  ['災害種別_津波', 'tsunami'],
  ['災害種別_大規模な火事', 'largeFire'],
  ['災害種別_内水氾濫', 'inlandFlooding'],
  ['災害種別_火山現象', 'volcano'],
];

const property = (value: unknown) => ({ type: 'Property', value });

function optionalNumber(row: Row, column: string): Entity {
  const raw = row[column]?.trim();
  return raw && /^\d+$/.test(raw) ? { capacity: property(Number(raw)) } : {};
}

export const DATASETS: Record<string, DatasetKind> = {
  '101': { code: '101', type: 'PublicFacility', label: '公共施設', extra: () => ({}) },
  '103': {
    code: '103',
    type: 'EvacuationSite',
    label: '指定緊急避難場所',
    extra: (row) => ({
      hazardTypes: {
        type: 'ListProperty',
        valueList: HAZARDS.filter(([column]) => row[column]?.trim() === '1').map(([, name]) => name),
      },
      isDesignatedShelter: property(row['指定避難所との重複']?.trim() === '1'),
      ...optionalNumber(row, '想定収容人数'),
    }),
  },
  '105': {
    code: '105',
    type: 'ChildcareFacility',
    label: '子育て施設',
    extra: (row) => ({
      ...(row['種別']?.trim() ? { category: property(row['種別'].trim()) } : {}),
      ...optionalNumber(row, '収容定員'),
    }),
  },
  '108': {
    code: '108',
    type: 'AED',
    label: 'AED設置箇所',
    extra: (row) => (row['設置位置']?.trim() ? { installationPlace: property(row['設置位置'].trim()) } : {}),
  },
};

function required(row: Row, column: string, line: number): string {
  const value = row[column]?.trim();
  if (!value) {
    throw new BadRequest(`line ${line}: ${column} is empty`);
  }
  return value;
}

function coordinate(row: Row, column: string, line: number, min: number, max: number): number {
  const raw = required(row, column, line);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new BadRequest(`line ${line}: ${column} "${raw}" is not a coordinate between ${min} and ${max}`);
  }
  return value;
}

function commonAttributes(row: Row, line: number): Entity {
  const name: Record<string, string> = { ja: required(row, '名称', line) };
  if (row['名称_英字']?.trim()) {
    name.en = row['名称_英字'].trim();
  }
  const entity: Entity = {
    name: { type: 'LanguageProperty', languageMap: name },
    location: {
      type: 'GeoProperty',
      value: {
        type: 'Point',
        coordinates: [coordinate(row, '経度', line, 122, 154), coordinate(row, '緯度', line, 20, 46)],
      },
    },
    address: property({
      addressRegion: row['所在地_都道府県']?.trim() ?? '',
      addressLocality: row['所在地_市区町村']?.trim() ?? '',
      streetAddress: `${row['所在地_町字']?.trim() ?? ''}${row['所在地_番地以下']?.trim() ?? ''}`,
      fullAddress: required(row, '所在地_連結表記', line),
    }),
  };
  if (row['名称_カナ']?.trim()) entity.nameKana = property(row['名称_カナ'].trim().normalize('NFKC'));
  if (row['電話番号']?.trim()) entity.telephone = property(row['電話番号'].trim());
  if (row.URL?.trim()) entity.url = property(row.URL.trim());
  return entity;
}

/**
 * Reads one standard dataset's CSV (UTF-8, with its header row) into NGSI-LD entities of the tenant.
 * @throws BadRequest naming the line and column of the first bad row
 */
export function readStandardDataset(datasetCode: string, tenantCode: string, csv: string): Entity[] {
  const kind = DATASETS[datasetCode];
  if (!kind) {
    throw new BadRequest(`dataset ${datasetCode} is not one of ${Object.keys(DATASETS).join(', ')}`);
  }
  let rows: Row[];
  try {
    rows = parse(csv.replace(/^\uFEFF/, ''), {
      columns: true,
      skip_empty_lines: true,
      relax_column_count: false,
    });
  } catch (error) {
    throw new BadRequest(`the ${kind.label} CSV cannot be read: ${(error as Error).message}`);
  }
  const seen = new Set<string>();
  return rows.map((row, index) => {
    const line = index + 2;
    const key = row.ID?.trim() || `${required(row, '名称', line)}@${row['所在地_連結表記']?.trim() ?? ''}`;
    const id = `urn:ngsi-ld:${kind.type}:${tenantCode}:${encodeURIComponent(key)}`;
    if (seen.has(id)) {
      throw new BadRequest(`line ${line}: ${kind.label} "${key}" appears twice`);
    }
    seen.add(id);
    return { id, type: kind.type, ...commonAttributes(row, line), ...kind.extra(row) };
  });
}
