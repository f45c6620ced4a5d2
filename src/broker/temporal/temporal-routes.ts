/**
 * /ngsi-ld/v1/temporal/entities (ETSI GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4). Each handler reads
 * as: parse → authorise → act in the tenant's transaction → present.
 *
 * Writing history here never touches the current entity: the temporal API keeps "the temporal
 * evolution" of entities (§5.6.11), so a backfill of last month's readings must not overwrite
 * today's state, nor notify subscribers (Orion-LD's TRoE does the same).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../../platform/index.ts';
import { readableTypes, restricts } from '../authorise.ts';
import { assertUri } from '../entities/parse-entity.ts';
import { BadRequestData, InvalidRequest, ResourceNotFound } from '../errors.ts';
import { negotiate } from '../http/negotiate.ts';
import { listParam, pageOptions, type QueryParams } from '../http/query-options.ts';
import { sendEntities } from '../http/respond.ts';
import {
  type AccessScope,
  type BrokerContext,
  checkEntity,
  readableWhere,
  requestScope,
} from '../http/scope.ts';
import { compileGeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { compileScopeQ, parseScopeQ } from '../query/scope-q.ts';
import { SqlParams } from '../query/sql-params.ts';
import { compileTypeExpr, parseTypeSelection } from '../query/type-expr.ts';
import {
  findTemporalEntity,
  queryTemporalEntities,
  removeAttributeHistory,
  removeHistory,
  removeInstance,
} from './history-store.ts';
import { parseTemporalAttributes, parseTemporalEntity } from './parse-temporal.ts';
import { readHistories } from './read-history.ts';
import { addHistory } from './record-history.ts';
import { parseTemporalQuery } from './temporal-query.ts';

type Params = { entityId: string; attrId: string; instanceId: string };
type TemporalRequest = FastifyRequest<{ Params: Params; Querystring: QueryParams }>;

const BASE = '/ngsi-ld/v1/temporal/entities';
/** GeoJSON has no temporal form; JSON and JSON-LD only. */
const OFFERED = ['application/json', 'application/ld+json'] as const;

export function registerTemporalRoutes(app: FastifyInstance, broker: BrokerContext): void {
  app.post(BASE, async (request, reply) => {
    const scope = await requestScope(broker, request, 'write');
    const entity = parseTemporalEntity(request.body, scope.ctx);
    checkEntity(scope, 'write', entity);
    const created = await broker.db.withTenant(scope.tenant, async (tx) => {
      await checkHistory(tx, scope, entity.id, `no history of an entity ${entity.id}`);
      return addHistory(tx, scope.tenant, entity);
    });
    if (!created) {
      return reply.code(204).send();
    }
    return reply
      .code(201)
      .header('location', `${BASE}/${encodeURIComponent(entity.id)}`)
      .send();
  });

  app.get(`${BASE}/:entityId`, async (request: TemporalRequest, reply) => {
    const media = negotiate(request.headers.accept, [...OFFERED]);
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'read');
    const query = parseTemporalQuery(request.query);
    const attrs = expandedList(request.query.attrs, scope.ctx.expand);
    const [body] = await broker.db.withTenant(scope.tenant, async (tx) => {
      const entity = await findTemporalEntity(tx, id);
      if (!entity) {
        throw new ResourceNotFound(`no history of an entity ${id}`);
      }
      const stored = { id, types: entity.types, stored: true };
      checkEntity(scope, 'read', stored, `no history of an entity ${id}`);
      return readHistories(tx, [entity], query, attrs, scope.ctx);
    });
    return sendEntities(reply, media, scope.ctx, body as Record<string, unknown>);
  });

  app.get(BASE, async (request: TemporalRequest, reply) => {
    const media = negotiate(request.headers.accept, [...OFFERED]);
    const scope = await requestScope(broker, request, 'read');
    const params = request.query;
    const query = parseTemporalQuery(params);
    const page = pageOptions(params, broker.config.maxLimit);
    const attrs = expandedList(params.attrs, scope.ctx.expand);
    const filter = { ...entityFilter(params, scope.ctx.expand), attrs };
    const readable = readableWhere(scope, (value) => filter.params.add(value), 't.types');
    if (readable) filter.where.push(readable);
    const { bodies, total } = await broker.db.withTenant(scope.tenant, async (tx) => {
      const found = await queryTemporalEntities(tx, filter, page);
      return { bodies: await readHistories(tx, found.entities, query, attrs, scope.ctx), total: found.total };
    });
    if (total !== undefined) {
      reply.header('ngsild-results-count', String(total));
    }
    return sendEntities(reply, media, scope.ctx, bodies);
  });

  app.delete(`${BASE}/:entityId`, async (request: TemporalRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const removed = await broker.db.withTenant(scope.tenant, async (tx) => {
      await checkHistory(tx, scope, id, `no history of an entity ${id}`);
      return removeHistory(tx, id);
    });
    if (!removed) {
      throw new ResourceNotFound(`no history of an entity ${id}`);
    }
    return reply.code(204).send();
  });

  registerAttributeRoutes(app, broker);
}

/** §5.6.12–5.6.15: add instances to an attribute's history, delete an attribute's or one instance. */
function registerAttributeRoutes(app: FastifyInstance, broker: BrokerContext): void {
  app.post(`${BASE}/:entityId/attrs`, async (request: TemporalRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequestData('the body must be a JSON object of attributes');
    }
    const attrs = parseTemporalAttributes(body as Record<string, unknown>, scope.ctx);
    await broker.db.withTenant(scope.tenant, async (tx) => {
      const existing = await findTemporalEntity(tx, id);
      if (!existing) {
        throw new ResourceNotFound(`no history of an entity ${id}`);
      }
      checkEntity(
        scope,
        'write',
        { id, types: existing.types, stored: true },
        `no history of an entity ${id}`,
      );
      await addHistory(tx, scope.tenant, { id, types: existing.types, scopes: existing.scopes, attrs });
    });
    return reply.code(204).send();
  });

  app.delete(`${BASE}/:entityId/attrs/:attrId`, async (request: TemporalRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const attr = scope.ctx.expand(request.params.attrId);
    const { datasetId, deleteAll } = request.query;
    if (deleteAll !== undefined && deleteAll !== 'true' && deleteAll !== 'false') {
      throw new InvalidRequest('deleteAll must be true or false');
    }
    const series = {
      datasetId: datasetId === undefined ? undefined : assertUri(datasetId, 'datasetId'),
      all: deleteAll === 'true',
    };
    const removed = await broker.db.withTenant(scope.tenant, async (tx) => {
      await checkHistory(tx, scope, id, `no history of attribute ${request.params.attrId} of ${id}`);
      return removeAttributeHistory(tx, id, attr, series);
    });
    if (removed === 0) {
      throw new ResourceNotFound(`no history of attribute ${request.params.attrId} of ${id}`);
    }
    return reply.code(204).send();
  });

  app.delete(`${BASE}/:entityId/attrs/:attrId/:instanceId`, async (request: TemporalRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const instanceId = assertUri(request.params.instanceId, 'instanceId');
    const scope = await requestScope(broker, request, 'write');
    const attr = scope.ctx.expand(request.params.attrId);
    const removed = await broker.db.withTenant(scope.tenant, async (tx) => {
      const notFound = `no instance ${instanceId} of attribute ${request.params.attrId} of ${id}`;
      await checkHistory(tx, scope, id, notFound);
      return removeInstance(tx, id, attr, instanceId);
    });
    if (!removed) {
      throw new ResourceNotFound(`no instance ${instanceId} of attribute ${request.params.attrId} of ${id}`);
    }
    return reply.code(204).send();
  });
}

/**
 * The decision on a write of an entity's history, on the types its history record holds; a refusal
 * answers `notFound`, what the route answers when there is nothing to write. Nothing is read when no
 * entity could be refused to this caller.
 */
async function checkHistory(tx: Queryable, scope: AccessScope, id: string, notFound: string): Promise<void> {
  if (!restricts(readableTypes(scope.caller, scope.policy))) {
    return;
  }
  const stored = await findTemporalEntity(tx, id);
  if (stored) {
    checkEntity(scope, 'write', { id, types: stored.types, stored: true }, notFound);
  }
}

function expandedList(value: string | undefined, expand: (term: string) => string): string[] | undefined {
  const names = listParam(value);
  return names.length ? names.map(expand) : undefined;
}

/**
 * type, id, idPattern, scopeQ, q and geo as GET /entities reads them; q and geo test the current
 * state, type and scopeQ the entity's history record (its types ever had, its last scopes).
 */
function entityFilter(params: QueryParams, expand: (term: string) => string) {
  const sql = new SqlParams();
  const where: string[] = [];
  if (params.type !== undefined) {
    where.push(compileTypeExpr(parseTypeSelection(params.type, expand), sql, 't.types'));
  }
  if (params.scopeQ !== undefined) {
    where.push(compileScopeQ(parseScopeQ(params.scopeQ), sql, 't.scopes'));
  }
  if (params.q !== undefined) {
    where.push(compileQ(parseQ(params.q), { params: sql, expand }));
  }
  const geo = parseGeoQuery(params);
  if (geo) {
    where.push(compileGeoQuery(geo, { params: sql, expand }));
  }
  return {
    ids: listParam(params.id).map((id) => assertUri(id, 'id')),
    idPattern: checkedPattern(params.idPattern),
    where,
    params: sql,
  };
}

function checkedPattern(pattern: string | undefined): string | undefined {
  if (pattern !== undefined) {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new InvalidRequest(`idPattern is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  return pattern;
}
