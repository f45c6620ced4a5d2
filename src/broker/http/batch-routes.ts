/**
 * /ngsi-ld/v1/entityOperations: batch create, upsert, update, delete and merge (ETSI GS CIM 009
 * §5.6.7–5.6.10, §5.6.20) and query by POST (§5.7.2 with a Query body, §5.2.23). A batch runs in one
 * tenant transaction, written set-based (entities/batch-write.ts): an entity that fails leaves
 * nothing behind and the others are still written; the answer lists both (§5.2.16
 * BatchOperationResult).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ProblemDetails } from '../../platform/index.ts';
import type { ActiveContext } from '../context/json-ld.ts';
import { type BatchItem, type Decision, writeBatch } from '../entities/batch-write.ts';
import { isObject, readFragment } from '../entities/fragment.ts';
import type { StoredEntity } from '../entities/model.ts';
import { assertUri, parseEntity, parseTypes } from '../entities/parse-entity.ts';
import { creation, deletion, type Modification, modification } from '../entities/store.ts';
import { appendAttributes, mergeEntity, replaceEntity } from '../entities/update-entity.ts';
import {
  AlreadyExists,
  BadRequestData,
  InvalidRequest,
  OperationNotSupported,
  ResourceNotFound,
} from '../errors.ts';
import { parseGeoQuery } from '../query/geo-query.ts';
import { parseTypeSelection, typeSelector } from '../query/type-expr.ts';
import { answerQuery, checkedPattern, type EntityQuery } from './entity-routes.ts';
import { asRefs, negotiate } from './negotiate.ts';
import { parseOptions, type QueryParams } from './query-options.ts';
import { type AccessScope, type BrokerContext, checkEntity, guardedChange, requestScope } from './scope.ts';

/** Entities in one batch: enough for a municipality's daily sync, small enough for one transaction. */
export const MAX_BATCH = 1000;

type BatchRequest = FastifyRequest<{ Querystring: QueryParams }>;
/**
 * One operation on one entity of a batch. `prepare` reads the entity's request and throws an NGSI-LD
 * error when it cannot be written; the BatchItem it returns decides the write against the entity as
 * stored. Access is judged per entity (authorise.ts): on the types the caller gave in `prepare`, on
 * the entity as stored and as the change leaves it in `decide`, before anything is written.
 */
interface EntityOp {
  /** Whether `decide` needs the stored entity (read under its row lock). */
  readsState: boolean;
  prepare(raw: unknown, ctx: ActiveContext, options: Set<string>, access: AccessScope): BatchItem;
}

interface BatchResult {
  success: string[];
  created: string[];
  errors: { entityId: unknown; error: ProblemDetails }[];
}

const idOf = (raw: unknown): unknown => (isObject(raw) ? (raw.id ?? raw['@id']) : raw);

/** modifyEntity's rule, per entity: it must exist, and a request that changes nothing writes nothing. */
function modified(
  access: AccessScope,
  id: string,
  current: StoredEntity | undefined,
  change: (before: StoredEntity, now: string) => Modification,
  now: string,
  kind: 'update' | 'replace' = 'update',
): Decision {
  if (!current) throw new ResourceNotFound(`no entity ${id}`);
  const result = guardedChange(access, change)(current, now);
  return { outcome: 'updated', change: modification(access.tenant, current, result, kind, now) };
}

const create: EntityOp = {
  readsState: false,
  prepare(raw, ctx, _options, access) {
    const entity = parseEntity(raw, ctx);
    checkEntity(access, 'write', entity);
    return {
      id: entity.id,
      decide(current, now) {
        if (current) throw new AlreadyExists(`an entity with id ${entity.id} exists already`);
        return { outcome: 'created', change: creation(access.tenant, entity, now) };
      },
    };
  },
};

/** §5.6.8: creates, or else replaces (options=replace, the default) or appends to (options=update). */
const upsert: EntityOp = {
  readsState: true,
  prepare(raw, ctx, options, access) {
    const entity = parseEntity(raw, ctx);
    return {
      id: entity.id,
      decide(current, now) {
        if (!current) {
          checkEntity(access, 'write', entity);
          return { outcome: 'created', change: creation(access.tenant, entity, now) };
        }
        if (options.has('update')) {
          const fragment = readFragment(raw, ctx);
          const append = (b: StoredEntity, at: string) => appendAttributes(b, fragment, ctx, at, false);
          return modified(access, entity.id, current, append, now);
        }
        const replace = (b: StoredEntity, at: string) => replaceEntity(b, entity, at);
        return modified(access, entity.id, current, replace, now, 'replace');
      },
    };
  },
};

/** §5.6.9: each entity must exist; its attributes are appended (§5.6.3), with options=noOverwrite. */
const update: EntityOp = {
  readsState: true,
  prepare(raw, ctx, options, access) {
    const id = assertUri(idOf(raw), 'id');
    const fragment = readFragment(raw, ctx);
    const noOverwrite = options.has('noOverwrite');
    const append = (b: StoredEntity, now: string) => appendAttributes(b, fragment, ctx, now, noOverwrite);
    return { id, decide: (current, now) => modified(access, id, current, append, now) };
  },
};

const merge: EntityOp = {
  readsState: true,
  prepare(raw, ctx, _options, access) {
    const id = assertUri(idOf(raw), 'id');
    const fragment = readFragment(raw, ctx);
    const change = (b: StoredEntity, now: string) => mergeEntity(b, fragment, ctx, now);
    return { id, decide: (current, now) => modified(access, id, current, change, now) };
  },
};

const remove: EntityOp = {
  readsState: true,
  prepare(raw, _ctx, _options, access) {
    const id = assertUri(raw, 'entity id');
    return {
      id,
      decide(current, now) {
        if (!current) throw new ResourceNotFound(`no entity ${id}`);
        checkEntity(access, 'write', { id, types: current.types, stored: true });
        return { outcome: 'updated', change: deletion(access.tenant, current, now) };
      },
    };
  },
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
  return { scope, contexts };
}

/** Each entity's request read, or the error that already stops it. */
function prepareAll(
  op: EntityOp,
  entities: unknown[],
  contexts: (ActiveContext | AppError)[],
  options: Set<string>,
  access: AccessScope,
): (BatchItem | AppError)[] {
  return entities.map((raw, index) => {
    const ctx = contexts[index] as ActiveContext | AppError;
    if (ctx instanceof AppError) return ctx;
    try {
      return op.prepare(raw, ctx, options, access);
    } catch (error) {
      // Anything but an NGSI-LD error is the broker's fault, not the entity's: the batch fails.
      if (!(error instanceof AppError)) throw error;
      return error;
    }
  });
}

async function runBatch(broker: BrokerContext, request: BatchRequest, op: EntityOp): Promise<BatchResult> {
  const options = parseOptions(request.query);
  const entities = batchItems(request.body);
  const { scope, contexts } = await batchScope(broker, request, entities);
  const items = prepareAll(op, entities, contexts, options, scope);
  const results = await writeBatch(
    broker.db,
    { tenant: scope.tenant, items, readsState: op.readsState },
    (error) => request.log.warn({ err: error }, 'the batch was written again one entity at a time'),
  );
  const result: BatchResult = { success: [], created: [], errors: [] };
  for (const [index, outcome] of results.entries()) {
    const entityId = idOf(entities[index]) ?? null;
    if ('error' in outcome) {
      result.errors.push({ entityId, error: outcome.error.toProblem() });
      continue;
    }
    result.success.push(String(entityId));
    if (outcome.outcome === 'created') result.created.push(String(entityId));
  }
  return result;
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
const UNSUPPORTED_QUERY_MEMBERS = ['csf', 'temporalQ'];

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
  if (body.scopeQ !== undefined && typeof body.scopeQ !== 'string')
    throw new BadRequestData('scopeQ must be a string');
  if (body.lang !== undefined && typeof body.lang !== 'string')
    throw new BadRequestData('lang must be a string');
  if (body.geoQ !== undefined && !isObject(body.geoQ)) throw new BadRequestData('geoQ must be an object');
  const geoQ = (body.geoQ ?? {}) as Record<string, string | undefined>;
  const query: EntityQuery = {
    selectors: readSelectors(body.entities, ctx),
    q: body.q as string | undefined,
    scopeQ: body.scopeQ as string | undefined,
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

/** §5.2.33 EntitySelector: `type` (a type selection, §4.17), `id`, `idPattern`. */
function readSelectors(value: unknown, ctx: ActiveContext): EntityQuery['selectors'] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject)) {
    throw new BadRequestData('entities must be an array of entity selectors ({type, id, idPattern})');
  }
  return value.map((s, i) => {
    if (s.type === undefined && s.id === undefined && s.idPattern === undefined) {
      throw new BadRequestData('an entity selector needs type, id or idPattern');
    }
    if (s.idPattern !== undefined && typeof s.idPattern !== 'string') {
      throw new InvalidRequest('idPattern must be a regular expression');
    }
    const types =
      typeof s.type === 'string'
        ? typeSelector(parseTypeSelection(s.type, ctx.expand, `entities[${i}].type`))
        : s.type === undefined
          ? {}
          : { types: parseTypes(s.type, ctx) };
    return {
      ...types,
      ...(s.id === undefined ? {} : { id: assertUri(s.id, 'entities[].id') }),
      ...(s.idPattern === undefined ? {} : { idPattern: checkedPattern(s.idPattern) as string }),
    };
  });
}
