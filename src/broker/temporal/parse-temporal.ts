/**
 * Reads an entity in the temporal representation (ETSI GS CIM 009 §4.5.7) from a request body, for
 * §5.6.11 (create or add to an entity's history) and §5.6.12 (add instances to an attribute's
 * history): each attribute is an array of instances, several of them per datasetId, each checked
 * exactly as the entity API checks an attribute.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { ENTITY_MEMBERS, type Instance } from '../entities/model.ts';
import { assertName, assertUri, parseAttribute, parseScopes, parseTypes } from '../entities/parse-entity.ts';
import { BadRequestData } from '../errors.ts';

type Json = Record<string, unknown>;

/** At most this many instances in one request, so a request stays one reasonable transaction. */
const MAX_INSTANCES = 10_000;

export interface TemporalEntityInput {
  id: string;
  types: string[];
  scopes: string[] | null;
  /** Expanded attribute IRI → instances, in the order sent. */
  attrs: Record<string, Instance[]>;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An attribute's instances: an array of them, or one alone. */
export function parseInstances(name: string, raw: unknown, ctx: ActiveContext): Instance[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) {
    throw new BadRequestData(`attribute ${name} has no instances`);
  }
  return list.map((item, i) => {
    if (!isObject(item)) {
      throw new BadRequestData(`attribute ${name}[${i}] must be an attribute instance (a JSON object)`);
    }
    // instanceId is the broker's to give (§4.5.7); one sent in is not a sub-attribute, just ignored.
    const { instanceId: _ignored, ...members } = item;
    const [instance] = parseAttribute(name, members, ctx, 0);
    return instance as Instance;
  });
}

export function parseTemporalEntity(body: unknown, ctx: ActiveContext): TemporalEntityInput {
  if (!isObject(body)) {
    throw new BadRequestData('the temporal entity must be a JSON object');
  }
  return {
    id: assertUri(body.id ?? body['@id'], 'id'),
    types: parseTypes(body.type ?? body['@type'], ctx),
    scopes: parseScopes(body.scope),
    attrs: parseTemporalAttributes(body, ctx),
  };
}

/** The attributes of a temporal fragment (every member but id, type, scope and @context). */
export function parseTemporalAttributes(body: Json, ctx: ActiveContext): Record<string, Instance[]> {
  const attrs: Record<string, Instance[]> = {};
  let count = 0;
  for (const name of Object.keys(body).filter((k) => !ENTITY_MEMBERS.has(k))) {
    assertName(name, 'attribute name');
    const instances = parseInstances(name, body[name], ctx);
    count += instances.length;
    if (count > MAX_INSTANCES) {
      throw new BadRequestData(`one request may carry at most ${MAX_INSTANCES} attribute instances`);
    }
    attrs[ctx.expand(name)] = instances;
  }
  return attrs;
}
