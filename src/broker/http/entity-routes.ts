/**
 * /ngsi-ld/v1/entities: create, retrieve, replace, merge, delete and query (ETSI GS CIM 009 §5.6.1,
 * §5.7.1, §5.6.18, §5.6.17, §5.6.6, §5.7.2). Each handler reads as: parse → authorise → act in the tenant's transaction → present.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../../platform/index.ts';
import { readFragment } from '../entities/fragment.ts';
import type { StoredEntity } from '../entities/model.ts';
import { assertUri, parseEntity } from '../entities/parse-entity.ts';
import { renderEntity } from '../entities/render-entity.ts';
import { findEntity, insertEntity, modifyEntity, queryEntities, removeEntity } from '../entities/store.ts';
import { mergeEntity, replaceEntity } from '../entities/update-entity.ts';
import { InvalidRequest, ResourceNotFound } from '../errors.ts';
import {
  createPersonal,
  hidePersonalAttributes,
  newQueryDecisions,
  personalCondition,
  personalRead,
  personalTypes,
  type QueryDecisions,
} from '../personal.ts';
import { type Page, queryWithSealedFilters, sealedFilters } from '../personal-query.ts';
import { type EntityQuery, queryConditions } from '../query/entity-query.ts';
import { type GeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import type { QExpr } from '../query/q-ast.ts';
import { parseQ } from '../query/q-parser.ts';
import { SqlParams } from '../query/sql-params.ts';
import { parseTypeSelection } from '../query/type-expr.ts';
import { type MediaType, negotiate } from './negotiate.ts';
import { nonEmptyListParam, pageOptions, type QueryParams, renderOptions } from './query-options.ts';
import { sendEntities } from './respond.ts';
import {
  type BrokerContext,
  checkEntity,
  checkStoredEntity,
  guardedChange,
  type RequestScope,
  readableWhere,
  requestScope,
} from './scope.ts';

type IdRequest = FastifyRequest<{ Params: { entityId: string }; Querystring: QueryParams }>;

export function registerEntityRoutes(app: FastifyInstance, broker: BrokerContext): void {
  app.post('/ngsi-ld/v1/entities', async (request, reply) => {
    const scope = await requestScope(broker, request, 'write');
    const entity = parseEntity(request.body, scope.ctx);
    if (personalTypes(scope, entity.types).length > 0) {
      const refused = await broker.db.withTenant(scope.tenant, (tx) =>
        createPersonal(tx, scope, entity, (seal) => insertEntity(tx, scope.tenant, entity, seal)),
      );
      if (refused) throw refused;
    } else {
      checkEntity(scope, 'write', entity);
      await broker.db.withTenant(scope.tenant, (tx) => insertEntity(tx, scope.tenant, entity));
    }
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
    const load = () => broker.db.withTenant(scope.tenant, (tx) => findEntity(tx, id));
    const stored = await (broker.cache ? broker.cache.read(scope.tenant, id, load) : load());
    const entity =
      stored && personalTypes(scope, stored.types).length > 0
        ? await broker.db.withTenant(scope.tenant, (tx) => personalRead(tx, scope, stored))
        : stored;
    if (!entity) {
      throw new ResourceNotFound(`no entity ${id}`);
    }
    if (entity === stored) checkEntity(scope, 'read', { id, types: entity.types, stored: true });
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
    const removed = await broker.db.withTenant(scope.tenant, async (tx) => {
      await checkStoredEntity(tx, scope, id);
      return removeEntity(tx, scope.tenant, id);
    });
    if (!removed) {
      throw new ResourceNotFound(`no entity ${id}`);
    }
    return reply.code(204).send();
  });

  app.put('/ngsi-ld/v1/entities/:entityId', async (request: IdRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const replacement = parseEntity(request.body, scope.ctx, id);
    await broker.db.withTenant(scope.tenant, (tx) =>
      modifyEntity(
        tx,
        scope.tenant,
        id,
        guardedChange(scope, (before, now) => replaceEntity(before, replacement, now)),
        'replace',
      ),
    );
    return reply.code(204).send();
  });

  // §6.5.3.4: a merge may also be sent as application/merge-patch+json (RFC 7396); it is read as JSON.
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.patch('/ngsi-ld/v1/entities/:entityId', async (request: IdRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const fragment = readFragment(request.body, scope.ctx, id);
    await broker.db.withTenant(scope.tenant, (tx) =>
      modifyEntity(
        tx,
        scope.tenant,
        id,
        guardedChange(scope, (before, now) => mergeEntity(before, fragment, scope.ctx, now)),
      ),
    );
    return reply.code(204).send();
  });

  app.get('/ngsi-ld/v1/entities', async (request: FastifyRequest<{ Querystring: QueryParams }>, reply) => {
    const media = negotiate(request.headers.accept);
    const scope = await requestScope(broker, request, 'read');
    const query = request.query;
    const selector = {
      typeExpr: query.type === undefined ? undefined : parseTypeSelection(query.type, scope.ctx.expand),
      ids: nonEmptyListParam('id', query.id).map((id) => assertUri(id, 'id')),
      idPattern: checkedPattern(query.idPattern),
    };
    return answerQuery(
      broker,
      scope,
      reply,
      media,
      { ...selector, q: query.q, scopeQ: query.scopeQ, geo: parseGeoQuery(query) },
      query,
    );
  });
}

export type { EntityQuery } from '../query/entity-query.ts';

/** Runs a query and answers with the page of entities, rendered as `params` ask (format, attrs, paging). */
export async function answerQuery(
  broker: BrokerContext,
  scope: RequestScope,
  reply: FastifyReply,
  media: MediaType,
  query: EntityQuery,
  params: QueryParams,
): Promise<FastifyReply> {
  const options = renderOptions(params, scope.ctx);
  const page = pageOptions(params, broker.config.maxLimit);
  const q = query.q === undefined ? undefined : parseQ(query.q);
  const decisions = newQueryDecisions();
  const result = await broker.db.withTenant(scope.tenant, async (tx) => {
    const found = await findEntities(tx, scope, query, q, page, decisions);
    return { ...found, entities: await hidePersonalAttributes(tx, scope, found.entities, decisions) };
  });
  if (result.total !== undefined) {
    reply.header('ngsild-results-count', String(result.total));
  }
  const entities = result.entities.map((e) => renderEntity(e, scope.ctx, options));
  return sendEntities(reply, media, scope.ctx, entities, params.geoproperty);
}

/**
 * One page of the entities a query matches and the caller may reach (personal ones not yet
 * hidden), and the total when asked. A filter on a sealed attribute of personal entities the caller
 * reaches is evaluated by personal-query.ts; everything else by the database alone.
 */
async function findEntities(
  tx: Queryable,
  scope: RequestScope,
  query: EntityQuery,
  q: QExpr | undefined,
  page: Page,
  decisions: QueryDecisions,
): Promise<{ entities: StoredEntity[]; total?: number }> {
  const expand = scope.ctx.expand;
  const sql = new SqlParams();
  const where = queryConditions(query, q, expand, sql);
  const add = (value: unknown) => sql.add(value);
  const readable = readableWhere(scope, add);
  const filters = filterAttributes(q, query.geo, expand);
  const personal = readable && (await personalCondition(tx, scope, filters, add, decisions));
  if (personal && filters.length > 0) {
    const input = { query, q, filters, expand };
    const sealed = await sealedFilters(tx, scope, input);
    if (sealed.size > 0) return queryWithSealedFilters(tx, scope, { ...input, sealed, page, decisions });
  }
  if (readable) where.push(personal ? `(${readable} or ${personal})` : readable);
  const { types, ids, idPattern } = query;
  return queryEntities(tx, { types, ids, idPattern, where, params: sql }, page);
}

/** The attributes a query filters on (q paths, the geo-query's geoproperty), expanded. */
function filterAttributes(
  q: QExpr | undefined,
  geo: GeoQuery | undefined,
  expand: (term: string) => string,
): string[] {
  const names = new Set<string>();
  const walk = (expr: QExpr): void => {
    if (expr.kind === 'and' || expr.kind === 'or') expr.items.forEach(walk);
    else if (expr.path.attrs[0]) names.add(expand(expr.path.attrs[0]));
  };
  if (q) walk(q);
  if (geo) names.add(expand(geo.geoproperty));
  return [...names];
}

/** A client's idPattern as a regular expression; checked here so a bad one is a 400, not a database error. */
export function checkedPattern(pattern: string | undefined): string | undefined {
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
