/**
 * /ngsi-ld/v1/entities/{entityId}/attrs: append, update, partial update, replace and delete of
 * attributes (ETSI GS CIM 009 §5.6.3, §5.6.2, §5.6.4, §5.6.19, §5.6.5). Each handler reads as:
 * parse → authorise → read-modify-write the entity under its row lock → answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readFragment } from '../entities/fragment.ts';
import type { StoredEntity } from '../entities/model.ts';
import { assertName, assertUri } from '../entities/parse-entity.ts';
import { modifyEntity } from '../entities/store.ts';
import {
  appendAttributes,
  deleteAttribute,
  replaceAttribute,
  type Updated,
  updateAttribute,
  updateAttributes,
} from '../entities/update-entity.ts';
import { BadRequestData, InvalidRequest } from '../errors.ts';
import { parseOptions, type QueryParams } from './query-options.ts';
import { type BrokerContext, guardedChange, type RequestScope, requestScope } from './scope.ts';

type AttrsRequest = FastifyRequest<{ Params: { entityId: string }; Querystring: QueryParams }>;
type AttrRequest = FastifyRequest<{
  Params: { entityId: string; attrId: string };
  Querystring: QueryParams;
}>;

const ATTRS = '/ngsi-ld/v1/entities/:entityId/attrs';

export function registerAttributeRoutes(app: FastifyInstance, broker: BrokerContext): void {
  /** Runs one update of the entity in the path inside the tenant's transaction, if the caller may. */
  const modify = (scope: RequestScope, id: string, change: (before: StoredEntity, now: string) => Updated) =>
    broker.db.withTenant(scope.tenant, (tx) =>
      modifyEntity(tx, scope.tenant, id, guardedChange(scope, change)),
    );

  app.post(ATTRS, async (request: AttrsRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const noOverwrite = parseOptions(request.query).has('noOverwrite');
    const scope = await requestScope(broker, request, 'write');
    const fragment = readFragment(request.body, scope.ctx, id);
    const result = await modify(scope, id, (before, now) =>
      appendAttributes(before, fragment, scope.ctx, now, noOverwrite),
    );
    return sendUpdateResult(reply, result);
  });

  app.patch(ATTRS, async (request: AttrsRequest, reply) => {
    const id = assertUri(request.params.entityId, 'entityId');
    const scope = await requestScope(broker, request, 'write');
    const fragment = readFragment(request.body, scope.ctx, id);
    const result = await modify(scope, id, (before, now) =>
      updateAttributes(before, fragment, scope.ctx, now),
    );
    return sendUpdateResult(reply, result);
  });

  app.patch(`${ATTRS}/:attrId`, async (request: AttrRequest, reply) => {
    const { id, name } = target(request);
    const scope = await requestScope(broker, request, 'write');
    const [attr] = readFragment({ [name]: request.body }, scope.ctx).attrs;
    if (!attr) {
      throw new BadRequestData(`${name} is a member of the entity, not an attribute`);
    }
    await modify(scope, id, (before, now) => updateAttribute(before, attr, scope.ctx, now));
    return reply.code(204).send();
  });

  app.put(`${ATTRS}/:attrId`, async (request: AttrRequest, reply) => {
    const { id, name } = target(request);
    const scope = await requestScope(broker, request, 'write');
    const attr = { name, iri: scope.ctx.expand(name) };
    await modify(scope, id, (before, now) => replaceAttribute(before, attr, request.body, scope.ctx, now));
    return reply.code(204).send();
  });

  app.delete(`${ATTRS}/:attrId`, async (request: AttrRequest, reply) => {
    const { id, name } = target(request);
    const which = deletion(request.query);
    const scope = await requestScope(broker, request, 'write');
    const attr = { name, iri: scope.ctx.expand(name) };
    await modify(scope, id, (before) => deleteAttribute(before, attr, which));
    return reply.code(204).send();
  });
}

function target(request: AttrRequest): { id: string; name: string } {
  const id = assertUri(request.params.entityId, 'entityId');
  const name = request.params.attrId;
  assertName(name, 'attribute name');
  return { id, name };
}

/** §5.6.5: `datasetId=` deletes one instance, `deleteAll=true` every instance. */
function deletion(query: QueryParams): { datasetId?: string; deleteAll: boolean } {
  if (query.deleteAll !== undefined && query.deleteAll !== 'true' && query.deleteAll !== 'false') {
    throw new InvalidRequest('deleteAll must be true or false');
  }
  const deleteAll = query.deleteAll === 'true';
  if (deleteAll && query.datasetId !== undefined) {
    throw new InvalidRequest('use datasetId or deleteAll=true, not both');
  }
  return query.datasetId === undefined
    ? { deleteAll }
    : { datasetId: assertUri(query.datasetId, 'datasetId'), deleteAll };
}

/** 204 when every attribute was written, else 207 with the UpdateResult (§5.2.18). */
function sendUpdateResult(reply: FastifyReply, result: Updated): FastifyReply {
  if (result.notUpdated.length === 0) {
    return reply.code(204).send();
  }
  return reply.code(207).send({ updated: result.updated, notUpdated: result.notUpdated });
}
