/**
 * /ngsi-ld/v1/entities: create, retrieve, delete and query (ETSI GS CIM 009 §5.6.1, §5.7.1, §5.6.6,
 * §5.7.2). Each handler reads as: parse → authorise → act in the tenant's transaction → present.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { assertUri, parseEntity } from '../entities/parse-entity.ts';
import { renderEntity } from '../entities/render-entity.ts';
import { findEntity, insertEntity, queryEntities, removeEntity } from '../entities/store.ts';
import { InvalidRequest, ResourceNotFound } from '../errors.ts';
import { compileGeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { SqlParams } from '../query/sql-params.ts';
import { negotiate } from './negotiate.ts';
import { listParam, pageOptions, type QueryParams, renderOptions } from './query-options.ts';
import { sendEntities } from './respond.ts';
import { type BrokerContext, requestScope } from './scope.ts';

type IdRequest = FastifyRequest<{ Params: { entityId: string }; Querystring: QueryParams }>;

export function registerEntityRoutes(app: FastifyInstance, broker: BrokerContext): void {
  app.post('/ngsi-ld/v1/entities', async (request, reply) => {
    const scope = await requestScope(broker, request, 'write');
    const entity = parseEntity(request.body, scope.ctx);
    await broker.db.withTenant(scope.tenant, (tx) => insertEntity(tx, scope.tenant, entity));
    return reply
      .code(201)
      .header('location', `/ngsi-ld/v1/entities/${encodeURIComponent(entity.id)}`)
      .send();
  });

  app.get('/ngsi-ld/v1/entities/:entityId', async (request: IdRequest, reply) => {
    const media = negotiate(request.headers.accept);
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'read');
    const options = renderOptions(request.query, scope.ctx);
    const entity = await broker.db.withTenant(scope.tenant, (tx) => findEntity(tx, id));
    if (!entity) {
      throw new ResourceNotFound(`no entity ${id}`);
    }
    return sendEntities(
      reply,
      media,
      scope.ctx,
      renderEntity(entity, scope.ctx, options),
      request.query.geoproperty,
    );
  });

  app.delete('/ngsi-ld/v1/entities/:entityId', async (request: IdRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const removed = await broker.db.withTenant(scope.tenant, (tx) => removeEntity(tx, scope.tenant, id));
    if (!removed) {
      throw new ResourceNotFound(`no entity ${id}`);
    }
    return reply.code(204).send();
  });

  app.get('/ngsi-ld/v1/entities', async (request: FastifyRequest<{ Querystring: QueryParams }>, reply) => {
    const media = negotiate(request.headers.accept);
    const scope = await requestScope(broker, request, 'read');
    const query = request.query;
    const options = renderOptions(query, scope.ctx);
    const page = pageOptions(query, broker.config.maxLimit);
    const params = new SqlParams();
    const where: string[] = [];
    if (query.q !== undefined) {
      where.push(compileQ(parseQ(query.q), { params, expand: scope.ctx.expand }));
    }
    const geo = parseGeoQuery(query);
    if (geo) {
      where.push(compileGeoQuery(geo, { params, expand: scope.ctx.expand }));
    }
    const idPattern = checkedPattern(query.idPattern);
    const ids = listParam(query.id).map((id) => assertUri(id, 'id'));
    const types = listParam(query.type).map((t) => scope.ctx.expand(t));
    const result = await broker.db.withTenant(scope.tenant, (tx) =>
      queryEntities(tx, { types, ids, idPattern, where, params }, page),
    );
    if (result.total !== undefined) {
      reply.header('ngsild-results-count', String(result.total));
    }
    const entities = result.entities.map((e) => renderEntity(e, scope.ctx, options));
    return sendEntities(reply, media, scope.ctx, entities, query.geoproperty);
  });
}

/** A client's idPattern as a regular expression; checked here so a bad one is a 400, not a database error. */
function checkedPattern(pattern: string | undefined): string | undefined {
  if (pattern === undefined) {
    return undefined;
  }
  try {
    new RegExp(pattern);
  } catch (error) {
    throw new InvalidRequest(`idPattern is not a valid regular expression: ${(error as Error).message}`);
  }
  return pattern;
}
