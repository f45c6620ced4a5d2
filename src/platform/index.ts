/**
 * Platform: configuration, the database (PGlite | PostgreSQL), migrations, tenancy, durable jobs,
 * errors, logs, metrics and the HTTP shell every capability plugs into.
 * It imports no other capability.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from './migrations.ts';

export * from './config.ts';
export { lockDataDir } from './data-dir.ts';
export * from './db.ts';
export * from './envelope.ts';
export * from './errors.ts';
export { escapeHtml } from './html.ts';
export { registerHealth } from './http/health.ts';
export { registerMetrics } from './http/metrics.ts';
export { PROBLEM_JSON, problemHandler, registerProblemHandlers, sendProblem } from './http/problems.ts';
export { postgresRateLimitStore } from './http/rate-limit-store.ts';
export { registerTenantRoutes } from './http/tenants-routes.ts';
export { registerWeb } from './http/web.ts';
export * from './jobs.ts';
export { loggerOptions } from './logger.ts';
export * from './migrations.ts';
export { type AddressKind, parseAddress, specialRange } from './outbound/addresses.ts';
export { type OutboundRequest, type OutboundResponse, outboundRequest } from './outbound/http.ts';
export * from './outbound/policy.ts';
export * from './secret-box.ts';
export * from './tenancy.ts';

export const platformMigrations: MigrationSource = {
  capability: 'platform',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
