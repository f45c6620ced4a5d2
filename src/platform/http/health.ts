/**
 * Liveness and readiness for load balancers and orchestrators:
 * /healthz answers while the process runs; /readyz only while the database answers and every
 * migration this code expects has been applied.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db.ts';
import { ServiceUnavailable } from '../errors.ts';
import { type Migration, pendingMigrations } from '../migrations.ts';

export function registerHealth(app: FastifyInstance, db: Db, migrations: Migration[]): void {
  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { rateLimit: false } }, async () => {
    let pending: string[];
    try {
      pending = await pendingMigrations(db, migrations);
    } catch {
      throw new ServiceUnavailable('the database cannot be reached');
    }
    if (pending.length > 0) {
      throw new ServiceUnavailable(`${pending.length} database migrations are not applied yet`);
    }
    return { status: 'ready', database: db.kind };
  });
}
