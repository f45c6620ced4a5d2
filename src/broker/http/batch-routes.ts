/**
 * /ngsi-ld/v1/entityOperations: batch create, upsert, update, delete and merge (ETSI GS CIM 009
 * §5.6.7–5.6.10, §5.6.20) and query by POST (§5.7.2 with a Query body, §5.2.23). A batch runs in one
 * tenant transaction with a savepoint per entity: an entity that fails leaves nothing behind and the
 * others are still written; the answer lists both (§5.2.16 BatchOperationResult).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ProblemDetails, type Queryable } from '../../platform/index.ts';
import type { ActiveContext } from '../context/json-ld.ts';
import { isObject, readFragment } from '../entities/fragment.ts';
import { assertUri, parseEntity, parseTypes } from '../entities/parse-entity.ts';
import { findEntity, insertEntity, modifyEntity, removeEntity, withSavepoint } from '../entities/store.ts';
import { appendAttributes, mergeEntity, replaceEntity } from '../entities/update-entity.ts';
import { BadRequestData, InvalidRequest, OperationNotSupported, ResourceNotFound } from '../errors.ts';
import { parseGeoQuery } from '../query/geo-query.ts';
import { answerQuery, checkedPattern, type EntityQuery } from './entity-routes.ts';
import { asRefs, negotiate } from './negotiate.ts';
import { parseOptions, type QueryParams } from './query-options.ts';
import { type BrokerContext, requestScope } from './scope.ts';

/** Entities in one batch: enough for a municipality's daily sync, small enough for one transaction. */
export const MAX_BATCH = 1000;

type BatchRequest = FastifyRequest<{ Querystring: QueryParams }>;
type Outcome = 'created' | 'updated';
/** One entity's write; throws an NGSI-LD error when this entity cannot be written. */
type EntityOp = (
  tx: Queryable,
  tenant: string,
  raw: unknown,
  ctx: ActiveContext,
  options: Set<string>,
) => Promise<Outcome>;

interface BatchResult {
  success: string[];
  created: string[];
  errors: { entityId: unknown; error: ProblemDetails }[];
}

const idOf = (raw: unknown): unknown => (isObject(raw) ? (raw.id ?? raw['@id']) : raw);

const create: EntityOp = async (tx, tenant, raw, ctx) => {
  await insertEntity(tx, tenant, parseEntity(raw, ctx));
  return 'created';
};

/** §5.6.8: creates, or else replaces (options=replace, the default) or appends to (options=update). */
const upsert: EntityOp = async (tx, tenant, raw, ctx, options) => {
  const entity = parseEntity(raw, ctx);
  if (!(await findEntity(tx, entity.id, true))) {
    await insertEntity(tx, tenant, entity);
    return 'created';
  }
  if (options.has('update')) {
    const fragment = readFragment(raw, ctx);
    await modifyEntity(tx, tenant, entity.id, (b, now) => appendAttributes(b, fragment, ctx, now, false));
  } else {
    await modifyEntity(tx, tenant, entity.id, (b, now) => replaceEntity(b, entity, now), 'replace');
  }
  return 'updated';
};

/** §5.6.9: each entity must exist; its attributes are appended (§5.6.3), with options=noOverwrite. */
const update: EntityOp = async (tx, tenant, raw, ctx, options) => {
  const id = assertUri(idOf(raw), 'id');
  const fragment = readFragment(raw, ctx);
  const noOverwrite = options.has('noOverwrite');
  await modifyEntity(tx, tenant, id, (b, now) => appendAttributes(b, fragment, ctx, now, noOverwrite));
  return 'updated';
};

const merge: EntityOp = async (tx, tenant, raw, ctx) => {
  const id = assertUri(idOf(raw), 'id');
  const fragment = readFragment(raw, ctx);
  await modifyEntity(tx, tenant, id, (b, now) => mergeEntity(b, fragment, ctx, now));
  return 'updated';
};

const remove: EntityOp = async (tx, tenant, raw) => {
  const id = assertUri(raw, 'entity id');
  if (!(await removeEntity(tx, tenant, id))) {
    throw new ResourceNotFound(`no entity ${id}`);
  }
  return 'updated';
};

function batchItems(body: unknown): unknown[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw new BadRequestData('a batch operation needs a non-empty JSON array');
  }
  if (body.length > MAX_BATCH) {
    throw new BadRequestData(`a batch may hold at most ${MAX_BATCH} entities; split it (got ${body.length})`);
  }
  return body;
}

const isJsonLd = (request: FastifyRequest) =>
  /^application\/ld\+json\b/i.test(String(request.headers['content-type'] ?? ''));

/**
 * The tenant, and each entity's @context. A JSON-LD batch carries a context in every entity (§6.3.5)
 * rather than one for the body, so the request's own context is taken from the headers alone.
 */
async function batchScope(broker: BrokerContext, request: BatchRequest, entities: unknown[]) {
  const perEntity = isJsonLd(request) && Array.isArray(request.body);
  if (perEntity && request.headers.link) {
    throw new BadRequestData('JSON-LD entities carry their own @context; do not send a context Link header');
  }
  const headersOnly = {
    headers: { ...request.headers, 'content-type': 'application/json' },
    body: undefined,
  };
  const scope = await requestScope(broker, perEntity ? (headersOnly as FastifyRequest) : request, 'write');
  const contexts = await Promise.all(
    entities.map(async (raw): Promise<ActiveContext | AppError> => {
      const context = isObject(raw) ? raw['@context'] : undefined;
      if (!perEntity && context === undefined) return scope.ctx;
      try {
        if (!perEntity)
          throw new BadRequestData('an entity with an @context must be sent as application/ld+json');
        if (context === undefined)
          throw new BadRequestData('an entity sent as application/ld+json needs an @context');
        return await broker.contexts.resolve(asRefs(context));
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
    }),
  );
  return { tenant: scope.tenant, contexts };
}

async function runBatch(broker: BrokerContext, request: BatchRequest, op: EntityOp): Promise<BatchResult> {
  const options = parseOptions(request.query);
  const entities = batchItems(request.body);
  const { tenant, contexts } = await batchScope(broker, request, entities);
  return broker.db.withTenant(tenant, async (tx) => {
    const result: BatchResult = { success: [], created: [], errors: [] };
    for (const [index, raw] of entities.entries()) {
      const entityId = idOf(raw) ?? null;
      const ctx = contexts[index] as ActiveContext | AppError;
      try {
        if (ctx instanceof AppError) throw ctx;
        const outcome = await withSavepoint(tx, () => op(tx, tenant, raw, ctx, options));
        result.success.push(String(entityId));
        if (outcome === 'created') result.created.push(String(entityId));
      } catch (error) {
        // Anything but an NGSI-LD error is the broker's fault, not the entity's: the batch fails.
        if (!(error instanceof AppError)) throw error;
        result.errors.push({ entityId, error: error.toProblem() });
      }
    }
    return result;
  });
}

/** 207 with the BatchOperationResult when any entity failed; otherwise the operation's own answer. */
function answer(reply: FastifyReply, result: BatchResult, allWritten: () => FastifyReply): FastifyReply {
  if (result.errors.length > 0) {
    return reply.code(207).send({ success: result.success, errors: result.errors });
  }
  return allWritten();
}

export function registerBatchRoutes(app: FastifyInstance, broker: BrokerContext): void {
  const route = (
    name: string,
    op: EntityOp,
    allWritten: (r: BatchResult, reply: FastifyReply) => FastifyReply,
  ) =>
    app.post(`/ngsi-ld/v1/entityOperations/${name}`, async (request: BatchRequest, reply) => {
      const result = await runBatch(broker, request, op);
      return answer(reply, result, () => allWritten(result, reply));
    });
  const noContent = (_: BatchResult, reply: FastifyReply) => reply.code(204).send();

  route('create', create, (r, reply) => reply.code(201).send(r.success));
  route('upsert', upsert, (r, reply) =>
    r.created.length ? reply.code(201).send(r.created) : reply.code(204).send(),
  );
  route('update', update, noContent);
  route('delete', remove, noContent);
  route('merge', merge, noContent);

  app.post('/ngsi-ld/v1/entityOperations/query', async (request: BatchRequest, reply) => {
    const media = negotiate(request.headers.accept);
    const scope = await requestScope(broker, request, 'read');
    const { query, params } = readQuery(request.body, request.query, scope.ctx);
    return answerQuery(broker, scope, reply, media, query, params);
  });
}

/** Members of a Query (§5.2.23) this broker does not evaluate yet: refused rather than ignored. */
const UNSUPPORTED_QUERY_MEMBERS = ['scopeQ', 'csf', 'temporalQ'];

/** A Query body as the query it asks for, and the URL's parameters with its attrs and lang. */
function readQuery(
  body: unknown,
  url: QueryParams,
  ctx: ActiveContext,
): { query: EntityQuery; params: QueryParams } {
  if (!isObject(body) || body.type !== 'Query') {
    throw new BadRequestData('the body must be a Query: a JSON object with "type": "Query"');
  }
  const unsupported = UNSUPPORTED_QUERY_MEMBERS.filter((m) => body[m] !== undefined);
  if (unsupported.length) {
    throw new OperationNotSupported(`this broker does not evaluate ${unsupported.join(', ')} in a Query yet`);
  }
  const attrs = body.attrs;
  if (attrs !== undefined && (!Array.isArray(attrs) || !attrs.every((a) => typeof a === 'string'))) {
    throw new BadRequestData('attrs must be an array of attribute names');
  }
  if (body.q !== undefined && typeof body.q !== 'string') throw new BadRequestData('q must be a string');
  if (body.lang !== undefined && typeof body.lang !== 'string')
    throw new BadRequestData('lang must be a string');
  if (body.geoQ !== undefined && !isObject(body.geoQ)) throw new BadRequestData('geoQ must be an object');
  const geoQ = (body.geoQ ?? {}) as Record<string, string | undefined>;
  const query: EntityQuery = {
    selectors: readSelectors(body.entities, ctx),
    q: body.q as string | undefined,
    geo: parseGeoQuery({
      georel: geoQ.georel,
      geometry: geoQ.geometry,
      coordinates: geoQ.coordinates,
      geoproperty: geoQ.geoproperty,
    }),
  };
  const params: QueryParams = { ...url, geoproperty: url.geoproperty ?? geoQ.geoproperty };
  if (attrs !== undefined) params.attrs = (attrs as string[]).join(',');
  if (body.lang !== undefined) params.lang = body.lang as string;
  return { query, params };
}

/** §5.2.33 EntitySelector: `type` (a name or a comma-separated list), `id`, `idPattern`. */
function readSelectors(value: unknown, ctx: ActiveContext): EntityQuery['selectors'] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw new BadRequestData('entities must be an array of entity selectors ({type, id, idPattern})');
  }
  return value.map((s) => {
    if (s.type === undefined && s.id === undefined && s.idPattern === undefined) {
      throw new BadRequestData('an entity selector needs type, id or idPattern');
    }
    if (s.idPattern !== undefined && typeof s.idPattern !== 'string') {
      throw new InvalidRequest('idPattern must be a regular expression');
    }
    const types = typeof s.type === 'string' ? s.type.split(',').map((t) => t.trim()) : s.type;
    return {
      ...(types === undefined ? {} : { types: parseTypes(types, ctx) }),
      ...(s.id === undefined ? {} : { id: assertUri(s.id, 'entities[].id') }),
      ...(s.idPattern === undefined ? {} : { idPattern: checkedPattern(s.idPattern) as string }),
    };
  });
}
