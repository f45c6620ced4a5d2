/**
 * A server for the HTTP benchmark, in its own process so the load generator does not share its
 * event loop. `bare`: plain Fastify with one route. `machi`: Machi's full plugin stack on an
 * in-memory PGlite (or on PostgreSQL at MACHI_BENCH_DATABASE_URL), rate limiting on.
 * Prints `{"port": n, "rateLimitedPath": …}` once listening; stops when standard input closes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp, migrationSources } from '../src/main.ts';
import { loadConfig, loadMigrations, migrate, openDb } from '../src/platform/index.ts';
import { BENCH_SECRET_KEY, parentGone } from './child.ts';

/** The route the bench adds to Machi: the same answer as /healthz, but not exempt from rate limiting. */
const RATE_LIMITED_PATH = '/bench/rate-limited';

async function bareApp(): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ status: 'ok' }));
  return { app, close: () => app.close() };
}

async function machiApp(
  databaseUrl: string | undefined,
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DEMO_DATA: 'false',
    // High enough that no request of the run is refused: every one still counts in the database.
    RATE_LIMIT_MAX: '10000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, MACHI_SECRET_KEY: BENCH_SECRET_KEY } : {}),
  });
  const db = await openDb({ databaseUrl, poolSize: config.databasePoolSize });
  await migrate(db, loadMigrations(migrationSources));
  const app = await buildApp({ config, db });
  app.get(RATE_LIMITED_PATH, async () => ({ status: 'ok' }));
  return {
    app,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

const [kind] = process.argv.slice(2);
const databaseUrl = process.env.MACHI_BENCH_DATABASE_URL || undefined;
if (kind !== 'bare' && kind !== 'machi') {
  process.stderr.write('usage: [MACHI_BENCH_DATABASE_URL=…] http-server.ts bare | machi\n');
  process.exit(2);
}
const server = kind === 'bare' ? await bareApp() : await machiApp(databaseUrl);
await server.app.listen({ host: '127.0.0.1', port: 0 });
const address = server.app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, rateLimitedPath: RATE_LIMITED_PATH })}\n`);
await parentGone();
await server.close();
