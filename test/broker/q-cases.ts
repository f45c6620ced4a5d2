/**
 * Shelters and the q expressions that select them, by the spec's reading (ETSI GS CIM 009 §4.9):
 * the SQL compiler (q-sql.test.ts) and the in-memory evaluator for sealed attributes
 * (q-eval.test.ts) must both give these answers.
 */
export const D = 'https://uri.etsi.org/ngsi-ld/default-context/';
export const expand = (t: string) => (t.includes(':') ? t : D + t);

export type Instance = Record<string, unknown>;
const prop = (value: unknown, extra: Instance = {}): Instance => ({ type: 'Property', value, ...extra });
const lang = (languageMap: Record<string, unknown>): Instance => ({ type: 'LanguageProperty', languageMap });
const rel = (object: unknown, extra: Instance = {}): Instance => ({ type: 'Relationship', object, ...extra });
const vocab = (v: unknown): Instance => ({ type: 'VocabProperty', vocab: v });
const CITY = 'urn:ngsi-ld:Organization:city';
const NGO = 'urn:ngsi-ld:Organization:ngo';

/** Attributes by short name, each an instance or several; stored expanded, as the broker stores them. */
export const SHELTERS: Record<string, Record<string, Instance | Instance[]>> = {
  '01': {
    capacity: prop(120, { sub: { [`${D}accuracy`]: [prop(5)] } }),
    name: lang({ ja: '中央避難所', en: 'Central Shelter' }),
    category: vocab(`${D}School`),
    operator: rel(CITY),
    openedAt: prop({ '@type': 'DateTime', '@value': '2026-11-20T05:00:00Z' }),
    address: prop({ city: 'Sendai', ward: 'Aoba', building: { floor: 3 } }),
    status: prop('open'),
    accessible: prop(true),
    tags: prop(['pets', 'wheelchair']),
    temperature: prop(21.5, { observedAt: '2026-11-20T05:00:00.000Z', unitCode: 'CEL' }),
  },
  '02': {
    capacity: prop(80),
    name: lang({ ja: '北避難所', en: 'North Shelter' }),
    category: vocab([`${D}School`, `${D}Gym`]),
    operator: rel([CITY, NGO]),
    openedAt: prop('2026-11-20T14:00:00+09:00'),
    address: prop({ city: 'Natori' }),
    status: prop('closed'),
    accessible: prop(false),
    temperature: prop(18, { observedAt: '2026-11-21T00:00:00Z' }),
    openingDate: prop('2026-11-19'),
    openingTime: prop('09:00:00'),
  },
  '03': {
    capacity: prop('unknown'),
    name: lang({ en: ['Gym', 'Community Hall'] }),
    openedAt: prop('not a date'),
    status: prop('open'),
    address: prop('Sendai'),
  },
  '04': {
    capacity: [prop(50), prop(300, { datasetId: 'urn:ngsi-ld:Dataset:census' })],
    openedAt: prop('2020-02-31T00:00:00Z'),
    openingDate: prop('2026-11-21'),
    openingTime: prop('18:30:00Z'),
  },
  '05': {
    capacity: prop(100.0),
    openedAt: prop('2026-11-20T05:00:00'),
    floors: { type: 'ListProperty', valueList: [1, 2, 3] },
    members: { type: 'ListRelationship', objectList: ['urn:ngsi-ld:Person:a', 'urn:ngsi-ld:Person:b'] },
  },
  '06': {
    openedAt: prop('2026-11-20T05:00:00.123456789Z'),
    config: { type: 'JsonProperty', json: { mode: 'auto', value: 'Overstay 60 minutes' } },
    status: prop('Open'),
  },
  '07': { name: lang({ ja: '避難所（臨時）' }), status: prop(['open', 'full']), capacity: prop(-5) },
  '08': {
    operator: [rel(CITY), rel(NGO, { datasetId: 'urn:ngsi-ld:Dataset:b' })],
    category: vocab('https://example.org/Hospital'),
  },
  '09': { capacity: prop({ '@type': 'https://schema.org/Integer', '@value': 200 }) },
  '10': {
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.87, 38.26] } },
    capacity: prop(true),
    status: prop(null),
    openedAt: prop({ '@type': 'DateTime' }),
    openingTime: prop(12),
  },
  '11': {
    temperature: prop(30, {
      observedAt: '2026-11-19T00:00:00Z',
      sub: { [`${D}accuracy`]: [prop(0.5, { observedAt: '2026-11-19T01:00:00Z' })] },
    }),
  },
  '12': {},
};

export function stored(attrs: Record<string, Instance | Instance[]>): Record<string, Instance[]> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [D + k, Array.isArray(v) ? v : [v]]));
}

/** Each q with the shelters it selects, by the spec's reading (ETSI GS CIM 009 §4.9). */
export const CASES: [string, string[]][] = [
  // existence, sub-attributes, trailing paths, negation
  ['capacity', ['01', '02', '03', '04', '05', '07', '09', '10']],
  ['capacity.accuracy', ['01']],
  ['temperature.accuracy', ['11']],
  ['address[city]', ['01', '02']],
  ['address[building.floor]', ['01']],
  ['!capacity', ['06', '08', '11', '12']],
  ['location', ['10']],
  ['temperature.observedAt', ['01', '02', '11']],
  ['temperature.unitCode=="CEL"', ['01']],
  ['capacity.datasetId==urn:ngsi-ld:Dataset:census', ['04']],
  // numbers compare only with numbers; any instance (datasetId) may match
  ['capacity>100', ['01', '04', '09']],
  ['capacity==100', ['05']],
  ['capacity==1e2', ['05']],
  ['capacity>=100', ['01', '04', '05', '09']],
  ['capacity<0', ['07']],
  ['capacity==50..120', ['01', '02', '04', '05']],
  ['capacity!=50..120', ['03', '04', '07', '09', '10']],
  ['capacity==80,300', ['02', '04']],
  ['capacity!=80,300', ['01', '03', '04', '05', '07', '09', '10']],
  ['capacity.accuracy<10', ['01']],
  ['capacity==true', ['10']],
  // strings, booleans, arrays
  ['status=="open"', ['01', '03', '07']],
  ['status!="open"', ['02', '06', '10']],
  ['status>"c"', ['01', '02', '03', '07']],
  ['status=="a".."o"', ['02', '07']],
  ['tags=="wheelchair"', ['01']],
  ['accessible==true', ['01']],
  ['accessible!=true', ['02']],
  // LanguageProperty: any language, one language, [*]
  ['name=="Central Shelter"', ['01']],
  ['name=="中央避難所"', ['01']],
  ['name=="Gym"', ['03']],
  ['name[ja]=="北避難所"', ['02']],
  ['name[en]=="北避難所"', []],
  ['name[*]=="Community Hall"', ['03']],
  ['name!="Central Shelter"', ['02', '03', '07']],
  ['name~=避難所', ['01', '02', '07']],
  ['name[en]~=^North', ['02']],
  ['name!~=避難所', ['03']],
  // regular expressions: strings only, never Relationships
  ['status~=^op', ['01', '03', '07']],
  ['status~=(?i)^open$', ['01', '03', '06', '07']],
  ['status!~=^op', ['02', '06']],
  ['address[city]~="^Sen(dai|da)$"', ['01']],
  ['capacity~=.*', ['03']],
  ['operator~=city', []],
  ['category~=Gym$', ['02']],
  // Relationship and ListRelationship: objects, == and != only
  ['operator=="urn:ngsi-ld:Organization:city"', ['01', '02', '08']],
  ['operator==urn:ngsi-ld:Organization:ngo', ['02', '08']],
  ['operator!=urn:ngsi-ld:Organization:ngo', ['01', '08']],
  ['operator>"a"', []],
  ['members==urn:ngsi-ld:Person:b', ['05']],
  // VocabProperty: the literal is expanded
  ['category==School', ['01', '02']],
  ['category=="School"', ['01', '02']],
  ['category==https://example.org/Hospital', ['08']],
  ['category!=School', ['08']],
  ['category==Gym,Hospital', ['02']],
  // ListProperty and JsonProperty
  ['floors==2', ['05']],
  ['floors>2', ['05']],
  ['floors==4..9', []],
  ['config[value]=="Overstay 60 minutes"', ['06']],
  ['config[mode]=="auto"', ['06']],
  // compound values
  ['address[city]=="Sendai"', ['01']],
  ['address[building.floor]>=3', ['01']],
  ['address[city]!="Sendai"', ['02']],
  // DateTime, Date, Time: temporal order, zones honoured, malformed values never match nor fail
  ['openedAt==2026-11-20T05:00:00Z', ['01', '02']],
  ['openedAt==2026-11-20T14:00:00+09:00', ['01', '02']],
  ['openedAt>2026-11-20T05:00:00Z', ['06']],
  ['openedAt>=2026-11-20T05:00:00Z', ['01', '02', '06']],
  ['openedAt<2026-11-20T05:00:00Z', []],
  ['openedAt==2026-11-20T00:00:00Z..2026-11-20T23:59:59Z', ['01', '02', '06']],
  ['openedAt!=2026-11-20T05:00:00Z', ['03', '04', '05', '06', '10']],
  ['temperature.observedAt>=2026-11-20T12:00:00Z', ['02']],
  ['temperature.observedAt>="2026-11-20T12:00:00Z"', ['02']],
  ['temperature.observedAt<2026-11-20T00:00:00Z', ['11']],
  ['temperature.accuracy.observedAt==2026-11-19T01:00:00Z', ['11']],
  ['openingDate<2026-11-20', ['02']],
  ['openingDate==2026-11-21', ['04']],
  ['openingDate!=2026-11-01..2026-11-20', ['04']],
  ['openingTime>12:00:00', ['04']],
  ['openingTime==09:00:00Z', ['02']],
  // logic: AND binds tighter than OR; parentheses group
  ['capacity>100;status=="open"', ['01']],
  ['capacity>100|status=="closed"', ['01', '02', '04', '09']],
  ['(capacity>100|status=="closed");accessible==false', ['02']],
  ['capacity<=100;(status=="open"|name~=臨時)', ['07']],
  ['status=="closed"|capacity>100;accessible==true', ['01', '02']],
];
