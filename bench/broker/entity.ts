/**
 * The entity every broker benchmark writes and reads, shaped like Stellio's load-test template: six
 * Properties (one a multi-attribute with two datasetIds), one Relationship and one GeoProperty, a
 * Point around Sendai. Its stored form comes from the broker's own parser, so the baselines write
 * exactly the jsonb the broker writes.
 */

import type { ActiveContext } from '../../src/broker/context/json-ld.ts';
import { ContextResolver } from '../../src/broker/context/json-ld.ts';
import { createDocumentLoader } from '../../src/broker/context/loader.ts';
import type { StoredEntity } from '../../src/broker/entities/model.ts';
import { parseEntity } from '../../src/broker/entities/parse-entity.ts';
import { stampInstances } from '../../src/broker/entities/store.ts';
import { type Db, OutboundPolicy } from '../../src/platform/index.ts';

/** 仙台市: every entity of the benchmark belongs to this tenant. */
export const TENANT = '041009';
export const ENTITY_TYPE = 'Shelter';
const STATUSES = ['open', 'closed', 'full'] as const;
const CENTRE = [140.87, 38.26] as const;
const SPREAD = 0.1;

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** A Point within ±`spread` degrees of Sendai's centre. */
export function randomPoint(spread = SPREAD): [number, number] {
  return [
    round6(CENTRE[0] + (Math.random() * 2 - 1) * spread),
    round6(CENTRE[1] + (Math.random() * 2 - 1) * spread),
  ];
}

/** One shelter in the NGSI-LD normalized representation, with the core @context only. */
export function shelterBody(id: string): Record<string, unknown> {
  const observedAt = new Date().toISOString();
  return {
    id,
    type: ENTITY_TYPE,
    name: { type: 'Property', value: `指定避難所 ${id.slice(-7)}` },
    capacity: { type: 'Property', value: Math.floor(Math.random() * 1001) },
    status: { type: 'Property', value: pick(STATUSES) },
    occupancy: { type: 'Property', value: Math.floor(Math.random() * 300), observedAt },
    temperature: [
      {
        type: 'Property',
        value: 21.5,
        unitCode: 'CEL',
        observedAt,
        datasetId: 'urn:ngsi-ld:Dataset:sensor-1',
      },
      {
        type: 'Property',
        value: 22.0,
        unitCode: 'CEL',
        observedAt,
        datasetId: 'urn:ngsi-ld:Dataset:sensor-2',
      },
    ],
    address: {
      type: 'Property',
      value: { addressRegion: '宮城県', addressLocality: '仙台市青葉区', streetAddress: '国分町3-7-1' },
    },
    managedBy: { type: 'Relationship', object: `urn:ngsi-ld:Organization:${TENANT}` },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: randomPoint() } },
  };
}

/** The broker's active context for requests without a user @context (the core context alone). */
export function coreContext(db: Db): Promise<ActiveContext> {
  const outbound = new OutboundPolicy({ outboundPrivate: 'deny', outboundAllow: [] });
  const contexts = new ContextResolver(
    createDocumentLoader(db, { timeoutMs: 5000, maxBytes: 1 << 20, outbound }),
  );
  return contexts.resolve([]);
}

/** The stored form the broker writes for a body: parsed, then stamped as `insertEntity` stamps it. */
export function storedForm(body: unknown, ctx: ActiveContext): StoredEntity {
  const entity = parseEntity(body, ctx);
  stampInstances(entity.attrs, new Date().toISOString());
  return entity;
}

/** Expanded names the SQL below needs. */
export interface Terms {
  type: string;
  name: string;
  capacity: string;
  status: string;
  location: string;
}

export function termsOf(ctx: ActiveContext): Terms {
  return {
    type: ctx.expand(ENTITY_TYPE),
    name: ctx.expand('name'),
    capacity: ctx.expand('capacity'),
    status: ctx.expand('status'),
    location: ctx.expand('location'),
  };
}

/**
 * Inserts entities `from`..`to` (ids `<prefix><7 digits>`) and their broker.geo rows in two
 * statements: the template's stored form with name, capacity, status and coordinates replaced per
 * row, so each row has the broker's own shape. Parameters are the template and the expanded names.
 */
export const BULK_ENTITIES_SQL = `
  insert into broker.entities (tenant_id, id, types, scopes, attrs, created_at, modified_at)
  select $1, $2 || lpad(g::text, 7, '0'), $3::text[], null,
         jsonb_set(jsonb_set(jsonb_set(jsonb_set($4::jsonb,
           array[$5, '0', 'value'], to_jsonb('指定避難所 ' || lpad(g::text, 7, '0'))),
           array[$6, '0', 'value'], to_jsonb(floor(random() * 1001)::int)),
           array[$7, '0', 'value'], to_jsonb((array['open', 'closed', 'full'])[1 + floor(random() * 3)::int])),
           array[$8, '0', 'value', 'coordinates'],
           jsonb_build_array(round((${CENTRE[0]} + (random() * 2 - 1) * ${SPREAD})::numeric, 6),
                             round((${CENTRE[1]} + (random() * 2 - 1) * ${SPREAD})::numeric, 6))),
         now(), now()
    from generate_series($9::int, $10::int) g`;

export const BULK_GEO_SQL = `
  insert into broker.geo (tenant_id, entity_id, attr, dataset_id, geom)
  select e.tenant_id, e.id, $3, '',
         ST_SetSRID(ST_MakePoint((e.attrs -> $3 -> 0 -> 'value' -> 'coordinates' ->> 0)::float8,
                                 (e.attrs -> $3 -> 0 -> 'value' -> 'coordinates' ->> 1)::float8), 4326)
    from broker.entities e
   where e.tenant_id = $4 and e.id between $1 and $2`;

/** The id of bulk-loaded entity `n`. */
export function bulkId(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(7, '0')}`;
}
