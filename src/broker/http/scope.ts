/**
 * What every broker request needs before it acts: its tenant, its active @context, and the
 * authorisation decision for the action it asks for.
 */
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/index.ts';
import { authorise, type BrokerAction } from '../authorise.ts';
import type { BrokerConfig } from '../config.ts';
import type { ActiveContext, ContextResolver } from '../context/json-ld.ts';
import { resolveTenant } from '../tenant.ts';
import { requestContext } from './negotiate.ts';

export interface BrokerContext {
  db: Db;
  config: BrokerConfig;
  contexts: ContextResolver;
}

export interface RequestScope {
  tenant: string;
  ctx: ActiveContext;
}

export async function requestScope(
  broker: BrokerContext,
  request: FastifyRequest,
  action: BrokerAction,
): Promise<RequestScope> {
  const tenantHeader = request.headers['ngsild-tenant'];
  const tenant = await resolveTenant(
    broker.db,
    Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader,
    broker.config.defaultTenant,
  );
  authorise({ caller: {}, tenant, action }, broker.config.auth);
  const ctx = await broker.contexts.resolve(requestContext(request));
  return { tenant, ctx };
}
