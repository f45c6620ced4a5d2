/**
 * A real Machi on a fresh test database with the demo tenants, listening on 127.0.0.1 on a free
 * port and serving the built front end: for browser tests and tests over real HTTP.
 */
import type { FastifyInstance } from 'fastify';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { loadDemo } from '../../src/demo/index.ts';
import { buildApp } from '../../src/main.ts';
import { createTestDb, type TestDb, testConfig } from './db.ts';

export interface TestServer {
  baseUrl: string;
  app: FastifyInstance;
  testDb: TestDb;
  close(): Promise<void>;
}

export async function startTestServer(
  overrides: Record<string, string> = {},
  brokerEnv: Record<string, string> = {},
): Promise<TestServer> {
  const testDb = await createTestDb();
  await loadDemo(testDb.db);
  const app = await buildApp({
    config: testConfig(overrides),
    db: testDb.db,
    broker: loadBrokerConfig(brokerEnv),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    testDb,
    async close() {
      await app.close();
      await testDb.close();
    },
  };
}
