/**
 * The NGSI-LD context broker (ETSI GS CIM 009) under /ngsi-ld/v1: the data integration core.
 * It owns the entity store and its JSON-LD handling; it never decides access itself (authorise.ts is
 * the one place), and never reads another tenant's rows (every query runs inside db.withTenant).
 */
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance } from 'fastify';
import { type Db, type JobHandler, type MigrationSource, problemHandler } from '../platform/index.ts';
import type { BrokerConfig } from './config.ts';
import { ContextResolver } from './context/json-ld.ts';
import { createDocumentLoader } from './context/loader.ts';
import { InvalidRequest, type NgsiLdError } from './errors.ts';
import { registerEntityRoutes } from './http/entity-routes.ts';

export type { BrokerConfig } from './config.ts';
export { brokerOptions, loadBrokerConfig } from './config.ts';

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
export function brokerJobHandlers(_db: Db, _config: BrokerConfig): Record<string, JobHandler> {
  return {};
}

export interface BrokerPluginOptions {
  db: Db;
  config: BrokerConfig;
  bodyLimit: number;
}

export async function brokerPlugin(app: FastifyInstance, options: BrokerPluginOptions): Promise<void> {
  const contexts = new ContextResolver(
    createDocumentLoader(options.db, {
      timeoutMs: options.config.contextTimeoutMs,
      maxBytes: options.config.contextMaxBytes,
    }),
  );
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/ld+json',
      { parseAs: 'string' },
      scope.getDefaultJsonParser('error', 'error'),
    );
    scope.setErrorHandler(problemHandler(options.bodyLimit, translate));
    registerEntityRoutes(scope, { db: options.db, config: options.config, contexts });
  });
}
