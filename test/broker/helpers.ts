/** A broker on a fresh test database with the demo tenants, driven through app.inject(). */
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { loadDemo } from '../../src/demo/index.ts';
import { buildApp } from '../../src/main.ts';
import { createTestDb, type TestDb, testConfig } from '../helpers/db.ts';

export const NGSI = '/ngsi-ld/v1';
export const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld';
export const DEFAULT_VOCAB = 'https://uri.etsi.org/ngsi-ld/default-context/';
export const SENDAI = '041009';
export const ISHINOMAKI = '042021';

export interface BrokerTest {
  t: TestDb;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** `env`: the broker's settings; `platform`: the platform's (OUTBOUND_ALLOW, …) over testConfig's. */
export async function startBroker(
  env: Record<string, string> = {},
  platform: Record<string, string> = {},
): Promise<BrokerTest> {
  const t = await createTestDb();
  await loadDemo(t.db);
  const app = await buildApp({
    config: testConfig(platform),
    db: t.db,
    broker: loadBrokerConfig({ MACHI_AUTH: 'off', ...env }),
  });
  await app.ready();
  return {
    t,
    app,
    async close() {
      await app.close();
      await t.close();
    },
  };
}

/** A JSON request to the broker for a tenant (仙台市 unless said otherwise). */
export function ngsi(
  app: FastifyInstance,
  method: InjectOptions['method'],
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method,
    url: `${NGSI}${path}`,
    headers: {
      'ngsild-tenant': SENDAI,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** A 避難所 (shelter) of 仙台市 in the normalized representation. */
export function shelter(n: number, overrides: Record<string, unknown> = {}) {
  return {
    id: `urn:ngsi-ld:Shelter:sendai-${String(n).padStart(3, '0')}`,
    type: 'Shelter',
    name: { type: 'LanguageProperty', languageMap: { ja: `避難所${n}`, en: `Shelter ${n}` } },
    capacity: { type: 'Property', value: 100 * n, unitCode: 'C62', observedAt: '2026-11-20T05:00:00Z' },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.87 + n / 1000, 38.26] } },
    ...overrides,
  };
}

/** Asserts an NGSI-LD error answer: its status, its problem type, and a detail for the client. */
export function assertNgsiError(
  response: { statusCode: number; json(): unknown },
  status: number,
  type: string,
): Record<string, unknown> {
  const body = response.json() as Record<string, unknown>;
  assert.equal(response.statusCode, status, JSON.stringify(body));
  assert.equal(body.type, `https://uri.etsi.org/ngsi-ld/errors/${type}`);
  assert.equal(typeof body.detail, 'string');
  return body;
}

/** Asserts that `fn` throws an error of class `kind` with exactly this message (parsers' positioned errors). */
export function assertThrowsExactly(
  fn: () => unknown,
  kind: abstract new (...args: never[]) => Error,
  message: string,
  label?: string,
): void {
  assert.throws(
    fn,
    (error: unknown) => {
      assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
      assert.equal(error.message, message);
      return true;
    },
    label,
  );
}
