/**
 * Prometheus metrics at /metrics: the process's default metrics, request durations by route
 * pattern and status, and jobs by queue and state (read from the database at scrape time, so
 * every process reports the same shared queue).
 */
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { Db } from '../db.ts';
import { countJobs } from '../jobs.ts';

export function registerMetrics(app: FastifyInstance, db: Db): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'machi_' });

  const duration = new client.Histogram({
    name: 'machi_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new client.Gauge({
    name: 'machi_jobs',
    help: 'Jobs in the durable queue by queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countJobs(db)) {
        this.set({ queue: row.queue, state: row.state }, row.count);
      }
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/metrics', { config: { rateLimit: false } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
  return registry;
}
