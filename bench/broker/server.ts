/**
 * A server for the broker benchmark, in its own process so the load generator does not share its
 * event loop. `bare`: plain Fastify answering GET /ngsi-ld/v1/entities/:id with one JSON document
 * held in memory (BENCH_BROKER_BODY). `machi`: Machi's full stack on the PostgreSQL database at
 * MACHI_BENCH_DATABASE_URL, MACHI_AUTH=off, rate limiting on (unless BENCH_RATE_LIMIT=off), and a
 * job worker polling every 20 ms when the broker has job handlers (notification delivery).
 * Prints `{"port": n, "worker": bool}` once listening; stops when standard input closes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { buildApp, jobHandlers } from '../../src/main.ts';
import { loadConfig, openDb, Worker } from '../../src/platform/index.ts';
import { BENCH_SECRET_KEY, parentGone } from '../child.ts';

interface Server {
  app: FastifyInstance;
  worker: boolean;
  close(): Promise<void>;
}

async function bareApp(): Promise<Server> {
  const body = JSON.parse(process.env.BENCH_BROKER_BODY ?? '{}') as unknown;
  const app = Fastify({ logger: false });
  app.get('/ngsi-ld/v1/entities/:entityId', async () => body);
  return { app, worker: false, close: () => app.close() };
}

async function machiApp(databaseUrl: string): Promise<Server> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DEMO_DATA: 'false',
    DATABASE_URL: databaseUrl,
    MACHI_SECRET_KEY: BENCH_SECRET_KEY,
    // High enough that no request of the run is refused; every one still counts in the database.
    RATE_LIMIT_MAX: process.env.BENCH_RATE_LIMIT === 'off' ? '0' : '10000000',
    // The notification receiver listens on 127.0.0.1.
    OUTBOUND_ALLOW: '127.0.0.1',
  });
  const broker = loadBrokerConfig({ MACHI_AUTH: 'off' });
  const db = await openDb({ databaseUrl, poolSize: config.databasePoolSize });
  const app = await buildApp({ config, db, broker });
  const handlers = jobHandlers(db, broker, config);
  const worker =
    Object.keys(handlers).length > 0
      ? new Worker(db, {
          handlers,
          pollIntervalMs: 20,
          onError: (job, error) =>
            process.stderr.write(`job ${job.queue} #${job.id} failed: ${(error as Error).message}\n`),
        })
      : undefined;
  worker?.start();
  return {
    app,
    worker: worker !== undefined,
    async close() {
      await worker?.stop(2000);
      await app.close();
      await db.close();
    },
  };
}

const [kind] = process.argv.slice(2);
const databaseUrl = process.env.MACHI_BENCH_DATABASE_URL;
if (kind !== 'bare' && !(kind === 'machi' && databaseUrl)) {
  process.stderr.write('usage: broker/server.ts bare | MACHI_BENCH_DATABASE_URL=… broker/server.ts machi\n');
  process.exit(2);
}
const server = kind === 'bare' ? await bareApp() : await machiApp(databaseUrl as string);
await server.app.listen({ host: '127.0.0.1', port: 0 });
const address = server.app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, worker: server.worker })}\n`);
await parentGone();
await server.close();
