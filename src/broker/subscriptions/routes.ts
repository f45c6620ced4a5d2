/**
 * /ngsi-ld/v1/subscriptions (ETSI GS CIM 009 §5.8.1–5.8.5, HTTP binding §6.10–6.11): create,
 * update, retrieve, query and delete subscriptions. Each handler reads as: parse → authorise → act in
 * the tenant's transaction → present.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OutboundDenied, type OutboundPolicy, type Queryable } from '../../platform/index.ts';
import { assertUri } from '../entities/parse-entity.ts';
import { BadRequestData, ResourceNotFound } from '../errors.ts';
import { negotiate, requestContext } from '../http/negotiate.ts';
import { pageOptions, parseOptions, type QueryParams } from '../http/query-options.ts';
import { sendEntities } from '../http/respond.ts';
import { type BrokerContext, requestScope } from '../http/scope.ts';
import { parseQ } from '../query/q-parser.ts';
import { checkSubscribable } from './access.ts';
import type { SubscriptionSpec } from './model.ts';
import { mergeFragment, parseSubscription, qPatterns } from './parse-subscription.ts';
import { schedulePeriodic } from './periodic.ts';
import { renderSubscription } from './render-subscription.ts';
import {
  checkPatterns,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  removeSubscription,
  updateSubscription,
} from './store.ts';

const BASE = '/ngsi-ld/v1/subscriptions';
const OFFERED = ['application/json', 'application/ld+json'] as const;

type IdRequest = FastifyRequest<{ Params: { subscriptionId: string }; Querystring: QueryParams }>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Members that, when a partial update sets them, restart a periodic subscription's schedule. */
const RESTARTS = ['isActive', 'timeInterval', 'expiresAt'];

/** Regular expressions only PostgreSQL can judge: those of q and of every idPattern. */
async function checkSpecPatterns(tx: Queryable, spec: SubscriptionSpec): Promise<void> {
  const patterns = [
    ...(spec.q ? qPatterns(parseQ(spec.q)).map((pattern) => ({ pattern, where: 'q' })) : []),
    ...(spec.entities ?? []).flatMap((e, i) =>
      e.idPattern ? [{ pattern: e.idPattern, where: `entities[${i}].idPattern` }] : [],
    ),
  ];
  await checkPatterns(tx, patterns);
}

/**
 * Refuses at once an endpoint whose host is an address (or localhost) the outbound policy refuses;
 * a name is checked at each delivery, on what it then resolves to.
 */
function checkEndpoint(outbound: OutboundPolicy, spec: SubscriptionSpec): void {
  try {
    outbound.checkUrl(new URL(spec.notification.endpoint.uri));
  } catch (error) {
    if (error instanceof OutboundDenied) {
      throw new BadRequestData(`notification.endpoint.uri: ${error.message}`);
    }
    throw error;
  }
}

export function registerSubscriptionRoutes(
  app: FastifyInstance,
  broker: BrokerContext & { outbound: OutboundPolicy },
): void {
  app.post(BASE, async (request, reply) => {
    const scope = await requestScope(broker, request, 'write', 'subscriptions');
    if (!isObject(request.body)) {
      throw new BadRequestData('a subscription must be a JSON object');
    }
    const raw = { id: `urn:ngsi-ld:Subscription:${randomUUID()}`, ...request.body };
    const spec = parseSubscription(raw, scope.ctx, requestContext(request), { checkExpiry: true });
    checkSubscribable(scope, spec);
    checkEndpoint(broker.outbound, spec);
    await broker.db.withTenant(scope.tenant, async (tx) => {
      await checkSpecPatterns(tx, spec);
      const sub = await insertSubscription(tx, scope.tenant, spec, scope.caller.subject);
      await schedulePeriodic(tx, scope.tenant, sub);
    });
    return reply
      .code(201)
      .header('location', `${BASE}/${encodeURIComponent(spec.id)}`)
      .send();
  });

  app.get(BASE, async (request: FastifyRequest<{ Querystring: QueryParams }>, reply) => {
    const media = negotiate(request.headers.accept, [...OFFERED]);
    const scope = await requestScope(broker, request, 'read', 'subscriptions');
    const sysAttrs = parseOptions(request.query).has('sysAttrs');
    const page = pageOptions(request.query, broker.config.maxLimit);
    const result = await broker.db.withTenant(scope.tenant, (tx) => listSubscriptions(tx, page));
    if (result.total !== undefined) {
      reply.header('ngsild-results-count', String(result.total));
    }
    const list = result.subscriptions.map((s) => renderSubscription(s, scope.ctx, sysAttrs));
    return sendEntities(reply, media, scope.ctx, list);
  });

  app.get(`${BASE}/:subscriptionId`, async (request: IdRequest, reply) => {
    const media = negotiate(request.headers.accept, [...OFFERED]);
    const id = assertUri(request.params.subscriptionId, 'subscriptionId');
    const scope = await requestScope(broker, request, 'read', 'subscriptions');
    const sysAttrs = parseOptions(request.query).has('sysAttrs');
    const sub = await broker.db.withTenant(scope.tenant, (tx) => findSubscription(tx, id));
    if (!sub) {
      throw new ResourceNotFound(`no subscription ${id}`);
    }
    return sendEntities(reply, media, scope.ctx, renderSubscription(sub, scope.ctx, sysAttrs));
  });

  app.patch(`${BASE}/:subscriptionId`, async (request: IdRequest, reply) => {
    const id = assertUri(request.params.subscriptionId, 'subscriptionId');
    const scope = await requestScope(broker, request, 'write', 'subscriptions');
    const fragment = request.body;
    if (!isObject(fragment) || Object.keys(fragment).filter((k) => k !== '@context').length === 0) {
      throw new BadRequestData('a subscription update must be a JSON object with at least one member');
    }
    if (fragment.id !== undefined && fragment.id !== id) {
      throw new BadRequestData(`the id of a subscription cannot change (${id})`);
    }
    const given = requestContext(request);
    await broker.db.withTenant(scope.tenant, async (tx) => {
      const existing = await findSubscription(tx, id, true);
      if (!existing) {
        throw new ResourceNotFound(`no subscription ${id}`);
      }
      // Without a @context of its own, an update is read with the subscription's.
      const context = given.length ? given : existing.context;
      const ctx = given.length ? scope.ctx : await broker.contexts.resolve(existing.context);
      const merged = mergeFragment({ ...existing.body, id }, fragment);
      const spec = parseSubscription(merged, ctx, context, { checkExpiry: 'expiresAt' in fragment });
      checkSubscribable(scope, spec);
      if ('notification' in fragment) {
        checkEndpoint(broker.outbound, spec);
      }
      await checkSpecPatterns(tx, spec);
      const restart = spec.timeInterval !== undefined && RESTARTS.some((k) => k in fragment);
      const updated = await updateSubscription(tx, spec, restart);
      if (restart) {
        await schedulePeriodic(tx, scope.tenant, updated);
      }
    });
    return reply.code(204).send();
  });

  app.delete(`${BASE}/:subscriptionId`, async (request: IdRequest, reply) => {
    const id = assertUri(request.params.subscriptionId, 'subscriptionId');
    const scope = await requestScope(broker, request, 'write', 'subscriptions');
    const removed = await broker.db.withTenant(scope.tenant, (tx) => removeSubscription(tx, id));
    if (!removed) {
      throw new ResourceNotFound(`no subscription ${id}`);
    }
    return reply.code(204).send();
  });
}
