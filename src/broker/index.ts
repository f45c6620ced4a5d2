/**
 * The NGSI-LD context broker (ETSI GS CIM 009) under /ngsi-ld/v1: the data integration core.
 * It owns the entity store and its JSON-LD handling; it never decides access itself (authorise.ts is
 * the one place), and never reads another tenant's rows (every query runs inside db.withTenant).
 */

import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import {
  type DataKeys,
  type Db,
  type JobHandler,
  type MigrationSource,
  OutboundPolicy,
  PROBLEM_JSON,
  problemHandler,
} from '../platform/index.ts';
import type { BrokerConfig } from './config.ts';
import { contextResolver } from './context/resolver.ts';
import { EntityCache } from './entities/cache.ts';
import { upsertEntities } from './entities/import.ts';
import { InvalidRequest, type NgsiLdError } from './errors.ts';
import { registerAttributeRoutes } from './http/attribute-routes.ts';
import { registerBatchRoutes } from './http/batch-routes.ts';
import { registerContextRoutes } from './http/context-routes.ts';
import { registerDiscoveryRoutes } from './http/discovery-routes.ts';
import { registerEntityRoutes } from './http/entity-routes.ts';
import { type Authenticate, authenticateRequests } from './http/scope.ts';
import { logWithdrawnAttempt } from './personal-withdrawn.ts';
import { importResidentEntities } from './resident-data.ts';
import { registerSubscriptionRoutes, subscriptionJobHandlers } from './subscriptions/index.ts';
import { registerTemporalRoutes } from './temporal/index.ts';

export type { Caller } from './authorise.ts';
export type { BrokerConfig } from './config.ts';
export { brokerOptions, loadBrokerConfig } from './config.ts';
export type { ImportResult } from './entities/import.ts';
export type { Authenticate } from './http/scope.ts';
export { WithdrawnAccess } from './personal-withdrawn.ts';
export { eraseResidentEntities, type ResidentEntity, residentEntities } from './resident-data.ts';
export {
  entityTypeMarks,
  markEntityTypes,
  type TypeAccess,
  type TypeAccessEntry,
  type TypeMarks,
} from './type-access.ts';

/**
 * Loads entities (normalized or concise, core @context) into a tenant's store, creating or replacing
 * each: for importers and the demo, which run inside Machi and need no HTTP round trip.
 */
export function entityImporter(
  db: Db,
  config: Pick<BrokerConfig, 'contextTimeoutMs' | 'contextMaxBytes'>,
  outbound = new OutboundPolicy({ outboundPrivate: 'deny', outboundAllow: [] }),
) {
  const contexts = contextResolver(db, config, outbound);
  return (tenant: string, bodies: unknown[]) => upsertEntities(db, contexts, tenant, bodies);
}

/**
 * Loads a resident's personal entities (an importer moving a municipality's records in, the demo),
 * each owned by the resident and sealed where sensitive, as if a service had written it for them.
 */
export function residentImporter(
  db: Db,
  keys: DataKeys,
  config: Pick<BrokerConfig, 'contextTimeoutMs' | 'contextMaxBytes'>,
  outbound = new OutboundPolicy({ outboundPrivate: 'deny', outboundAllow: [] }),
) {
  const contexts = contextResolver(db, config, outbound);
  return (tenant: string, owner: string, bodies: unknown[]) =>
    importResidentEntities(db, keys, contexts, { tenant, owner, bodies });
}

export const brokerMigrations: MigrationSource = {
  capability: 'broker',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};

/** Errors raised below the broker's own code, in NGSI-LD's terms. */
function translate(error: FastifyError & { code?: string }): NgsiLdError | undefined {
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return new InvalidRequest('the request body is not valid JSON');
  }
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return new InvalidRequest('the request body is empty');
  }
  if (error.code === '2201B') {
    return new InvalidRequest('a regular expression in the query is not valid');
  }
  return undefined;
}

/** The broker's deferred work (notification delivery, periodic notifications), by job queue. */
export function brokerJobHandlers(
  db: Db,
  config: BrokerConfig,
  options: { outbound: OutboundPolicy; publicUrl?: string | undefined },
): Record<string, JobHandler> {
  const contexts = contextResolver(db, config, options.outbound, options.publicUrl);
  return { ...subscriptionJobHandlers(db, config, contexts, options.outbound) };
}

/**
 * NGSI-LD clients (FIWARE's among them) read error bodies as `application/json` (ETSI GS CIM 009
 * §6.3.4 answers errors as JSON); a client that asks for `application/problem+json` gets that.
 */
function errorMediaType(request: FastifyRequest): string {
  return /application\/problem\+json/.test(request.headers.accept ?? '') ? PROBLEM_JSON : 'application/json';
}

export interface BrokerPluginOptions {
  db: Db;
  config: BrokerConfig;
  bodyLimit: number;
  /** The URL clients reach Machi by: hosted @contexts (/jsonldContexts) are named under it. */
  publicUrl: string;
  /** Where the broker may send requests for clients: remote @contexts, notification endpoints. */
  outbound: OutboundPolicy;
  /** Names the caller from its bearer token (identity's verification); without it all are anonymous. */
  authenticate?: Authenticate;
  /** The tenants' data keys: sensitive attributes of personal entities are stored sealed with them. */
  keys: DataKeys;
}

export async function brokerPlugin(app: FastifyInstance, options: BrokerPluginOptions): Promise<void> {
  const contexts = contextResolver(options.db, options.config, options.outbound, options.publicUrl);
  const cache = await EntityCache.open(options.db, options.config.entityCacheSize);
  app.addHook('onClose', () => cache.close());
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/ld+json',
      { parseAs: 'string' },
      scope.getDefaultJsonParser('error', 'error'),
    );
    scope.setErrorHandler(problemHandler(options.bodyLimit, translate, errorMediaType));
    authenticateRequests(scope, options.authenticate, (request, withdrawn) =>
      logWithdrawnAttempt(options.db, options.config, request, withdrawn),
    );
    registerEntityRoutes(scope, {
      db: options.db,
      config: options.config,
      contexts,
      cache,
      keys: options.keys,
    });
    registerSubscriptionRoutes(scope, {
      db: options.db,
      config: options.config,
      contexts,
      outbound: options.outbound,
    });
    registerTemporalRoutes(scope, { db: options.db, config: options.config, contexts });
    registerAttributeRoutes(scope, { db: options.db, config: options.config, contexts });
    registerBatchRoutes(scope, { db: options.db, config: options.config, contexts, keys: options.keys });
    registerDiscoveryRoutes(scope, { db: options.db, config: options.config, contexts });
    registerContextRoutes(scope, {
      db: options.db,
      config: options.config,
      contexts,
      publicUrl: options.publicUrl,
      outbound: options.outbound,
    });
  });
}
