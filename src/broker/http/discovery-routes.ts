/**
 * Discovery: /ngsi-ld/v1/types and /ngsi-ld/v1/attributes (ETSI GS CIM 009 §5.7.5–5.7.10, data types
 * §5.2.24–5.2.28). Each handler reads as: negotiate → scope (tenant, @context, access) → read in the
 * tenant's transaction, counting only the entities the caller may read → compact names with the
 * request's @context → present.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readableTypes } from '../authorise.ts';
import type { ActiveContext } from '../context/json-ld.ts';
import {
  type AttributeSummary,
  describeAttribute,
  describeAttributes,
  describeType,
  listAttributes,
  listTypes,
  listTypesWithAttributes,
} from '../entities/discovery-store.ts';
import { InvalidRequest, ResourceNotFound } from '../errors.ts';
import { negotiate } from './negotiate.ts';
import type { QueryParams } from './query-options.ts';
import { sendEntities } from './respond.ts';
import { type BrokerContext, type RequestScope, requestScope } from './scope.ts';

type Json = Record<string, unknown>;
type ListRequest = FastifyRequest<{ Querystring: QueryParams }>;
type TypeRequest = FastifyRequest<{ Params: { type: string }; Querystring: QueryParams }>;
type AttributeRequest = FastifyRequest<{ Params: { attrId: string }; Querystring: QueryParams }>;

/** Discovery answers have no GeoJSON form (§6.3.6 offers it for entities only). */
const OFFERED = ['application/json' as const, 'application/ld+json' as const];

function wantsDetails(query: QueryParams): boolean {
  const details = query.details;
  if (details !== undefined && details !== 'true' && details !== 'false') {
    throw new InvalidRequest('details must be true or false');
  }
  return details === 'true';
}

/** Compacted names in the order a reader scans them, not the order of their IRIs. */
function compactAll(iris: string[], ctx: ActiveContext): string[] {
  return iris.map((iri) => ctx.compact(iri)).sort();
}

/** The Attribute data type (§5.2.28); entity type details leave out the instance count. */
function attributeObject(summary: AttributeSummary, ctx: ActiveContext, withCount: boolean): Json {
  return {
    id: summary.name,
    type: 'Attribute',
    attributeName: ctx.compact(summary.name),
    ...(withCount ? { attributeCount: summary.count } : {}),
    attributeTypes: summary.attributeTypes,
    typeNames: compactAll(summary.typeNames, ctx),
  };
}

/** Code-point order, as `Array.prototype.sort` uses for strings, so answers do not depend on a locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byAttributeName(a: Json, b: Json): number {
  return byText(String(a.attributeName), String(b.attributeName));
}

/** What the caller may read: discovery describes only those entities' types and attributes. */
function readable(scope: RequestScope) {
  return readableTypes(scope.caller, scope.policy);
}

export function registerDiscoveryRoutes(app: FastifyInstance, broker: BrokerContext): void {
  /** §5.7.5 (EntityTypeList, §5.2.24) and §5.7.6 (EntityType with attribute names, §5.2.25). */
  app.get('/ngsi-ld/v1/types', async (request: ListRequest, reply) => {
    const media = negotiate(request.headers.accept, OFFERED);
    const details = wantsDetails(request.query);
    const scope = await requestScope(broker, request, 'read');
    const { tenant, ctx } = scope;
    if (!details) {
      const types = await broker.db.withTenant(tenant, (tx) => listTypes(tx, readable(scope)));
      const list = { id: `urn:ngsi-ld:EntityTypeList:${randomUUID()}`, type: 'EntityTypeList' };
      return sendEntities(reply, media, ctx, { ...list, typeList: compactAll(types, ctx) });
    }
    const types = await broker.db.withTenant(tenant, (tx) => listTypesWithAttributes(tx, readable(scope)));
    const body = types
      .map((t) => ({
        id: t.type,
        type: 'EntityType',
        typeName: ctx.compact(t.type),
        attributeNames: compactAll(t.attributeNames, ctx),
      }))
      .sort((a, b) => byText(a.typeName, b.typeName));
    return sendEntities(reply, media, ctx, body);
  });

  /** §5.7.7: EntityTypeInfo (§5.2.26) of one type. */
  app.get('/ngsi-ld/v1/types/:type', async (request: TypeRequest, reply) => {
    const media = negotiate(request.headers.accept, OFFERED);
    const scope = await requestScope(broker, request, 'read');
    const { tenant, ctx } = scope;
    const type = ctx.expand(request.params.type);
    const summary = await broker.db.withTenant(tenant, (tx) => describeType(tx, type, readable(scope)));
    if (!summary) {
      throw new ResourceNotFound(`no entity has the type ${request.params.type}`);
    }
    return sendEntities(reply, media, ctx, {
      id: type,
      type: 'EntityTypeInfo',
      typeName: ctx.compact(type),
      entityCount: summary.entityCount,
      attributeDetails: summary.attributes.map((a) => attributeObject(a, ctx, false)).sort(byAttributeName),
    });
  });

  /** §5.7.8 (AttributeList, §5.2.27) and §5.7.9 (Attribute objects, §5.2.28). */
  app.get('/ngsi-ld/v1/attributes', async (request: ListRequest, reply) => {
    const media = negotiate(request.headers.accept, OFFERED);
    const details = wantsDetails(request.query);
    const scope = await requestScope(broker, request, 'read');
    const { tenant, ctx } = scope;
    if (!details) {
      const names = await broker.db.withTenant(tenant, (tx) => listAttributes(tx, readable(scope)));
      const list = { id: `urn:ngsi-ld:AttributeList:${randomUUID()}`, type: 'AttributeList' };
      return sendEntities(reply, media, ctx, { ...list, attributeList: compactAll(names, ctx) });
    }
    const summaries = await broker.db.withTenant(tenant, (tx) => describeAttributes(tx, readable(scope)));
    const body = summaries.map((a) => attributeObject(a, ctx, true)).sort(byAttributeName);
    return sendEntities(reply, media, ctx, body);
  });

  /** §5.7.10: one Attribute (§5.2.28). */
  app.get('/ngsi-ld/v1/attributes/:attrId', async (request: AttributeRequest, reply) => {
    const media = negotiate(request.headers.accept, OFFERED);
    const scope = await requestScope(broker, request, 'read');
    const { tenant, ctx } = scope;
    const name = ctx.expand(request.params.attrId);
    const summary = await broker.db.withTenant(tenant, (tx) => describeAttribute(tx, name, readable(scope)));
    if (!summary) {
      throw new ResourceNotFound(`no entity has the attribute ${request.params.attrId}`);
    }
    return sendEntities(reply, media, ctx, attributeObject(summary, ctx, true));
  });
}
