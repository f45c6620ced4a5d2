/**
 * Platform: configuration, the database (PGlite | PostgreSQL), migrations, tenancy, durable jobs,
 * errors, logs, metrics and the HTTP shell every capability plugs into.
 * It imports no other capability.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from './migrations.ts';

export * from './config.ts';
export * from './db.ts';
export * from './errors.ts';
export * from './jobs.ts';
export * from './migrations.ts';
export * from './tenancy.ts';
export { loggerOptions } from './logger.ts';
export { registerProblemHandlers, sendProblem, PROBLEM_JSON } from './http/problems.ts';
export { registerMetrics } from './http/metrics.ts';
export { postgresRateLimitStore } from './http/rate-limit-store.ts';
export { registerHealth } from './http/health.ts';
export { registerWeb } from './http/web.ts';
export { registerTenantRoutes } from './http/tenants-routes.ts';
export { lockDataDir } from './data-dir.ts';

export const platformMigrations: MigrationSource = {
  capability: 'platform',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
