/**
 * A server for the identity benchmark, in its own process. `bare`: plain Fastify answering
 * POST /oidc/token with a token response held in memory (after reading the form, as any token
 * endpoint must). `machi`: Machi's full stack (PostgreSQL at MACHI_BENCH_DATABASE_URL, else the
 * embedded database in a temporary folder) with one resident and one confidential client that may
 * use the code flow and client credentials. Prints one JSON line once listening; stops when
 * standard input closes.
 */
import fs from 'node:fs';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { addAccount, registerClient } from '../../src/identity/index.ts';
import { buildApp } from '../../src/main.ts';
import { addTenant } from '../../src/platform/index.ts';
import { benchDeployment, parentGone } from '../child.ts';
import { PASSWORD, REDIRECT_URI } from './shared.ts';

const TOKEN = {
  access_token: 'x'.repeat(43),
  token_type: 'Bearer',
  expires_in: 600,
  scope: 'openid',
  id_token: `${'e'.repeat(100)}.${'p'.repeat(300)}.${'s'.repeat(342)}`,
};

async function bare(): Promise<{ port: number; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  await app.register(formbody);
  app.post('/oidc/token', async () => TOKEN);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
}

async function machi() {
  const { port, config, db, box, dataDir } = await benchDeployment('identity');
  await addTenant(db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
  await addTenant(db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' });
  const email = `bench-${Date.now()}@example.jp`;
  await addAccount(db, {
    kind: 'resident',
    email,
    displayName: 'ベンチ',
    password: PASSWORD,
    homeTenantCode: '041009',
  });
  const client = await registerClient(db, box, {
    tenantCode: '041009',
    name: 'bench',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'profile'],
    serviceAccess: true,
  });
  const app = await buildApp({ config, db, box });
  await app.listen({ host: '127.0.0.1', port });
  return {
    port,
    email,
    clientId: client.clientId,
    clientSecret: client.clientSecret as string,
    async close() {
      await app.close();
      await db.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const [kind] = process.argv.slice(2);
if (kind !== 'bare' && kind !== 'machi') {
  process.stderr.write('usage: identity/server.ts bare | machi\n');
  process.exit(2);
}
const server = kind === 'bare' ? await bare() : await machi();
const { close, ...announcement } = server;
process.stdout.write(`${JSON.stringify(announcement)}\n`);
await parentGone();
await close();
