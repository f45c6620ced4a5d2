import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/main.ts';
import { BadRequest, openDb, PROBLEM_BASE } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';

/** A route such as a capability would add: a JSON body validated by a schema. */
function addEchoRoute(app: FastifyInstance): void {
  app.post(
    '/api/v1/echo',
    {
      schema: {
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1 }, age: { type: 'integer', minimum: 0 } },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
    async (request) => request.body,
  );
  app.get('/api/v1/fail', async () => {
    throw new Error('secret internal detail at /srv/machi/db.ts:42');
  });
  app.get('/api/v1/refuse', async () => {
    throw new BadRequest('the date must be in JST');
  });
}

function assertProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  slug: string,
) {
  assert.equal(response.statusCode, status);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  assert.equal(body.type, PROBLEM_BASE + slug);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  return body;
}

describe(`HTTP platform (${backend})`, () => {
  let t: TestDb;
  let app: FastifyInstance;

  before(async () => {
    t = await createTestDb();
    app = await buildApp({ config: testConfig({ BODY_LIMIT: '2048' }), db: t.db });
    addEchoRoute(app);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await t.close();
  });

  it('answers /healthz while the process runs and /readyz when the database is migrated', async () => {
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
    const ready = await app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', database: backend });
  });

  it('reports not ready (503) while a migration is missing', async () => {
    const removed = await t.db.query<{ id: string; checksum: string }>(
      `delete from platform.migrations where id = 'identity/001_accounts' returning id, checksum`,
    );
    try {
      const body = assertProblem(await app.inject('/readyz'), 503, 'service-unavailable');
      assert.match(String(body.detail), /1 database migrations are not applied/);
    } finally {
      const row = removed.rows[0];
      await t.db.query('insert into platform.migrations (id, checksum) values ($1, $2)', [
        row?.id,
        row?.checksum,
      ]);
    }
  });

  it('answers an unknown path with a 404 problem', async () => {
    const body = assertProblem(await app.inject('/api/v1/nothing-here'), 404, 'not-found');
    assert.match(String(body.detail), /GET \/api\/v1\/nothing-here/);
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/api/v1/tenants' });
    assertProblem(response, 405, 'method-not-allowed');
    assert.equal(response.headers.allow, 'GET, HEAD');
  });

  it('answers a malformed JSON body with 400, not 500', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "山田",',
    });
    const body = assertProblem(response, 400, 'bad-request');
    assert.equal(body.detail, 'the request body is not valid JSON');
  });

  it('answers a body over BODY_LIMIT with 413', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(4096) }),
    });
    const body = assertProblem(response, 413, 'payload-too-large');
    assert.match(String(body.detail), /2048 bytes/);
  });

  it('answers a content type it does not read with 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<name>山田</name>',
    });
    assertProblem(response, 415, 'unsupported-media-type');
  });

  it('names each invalid field of a body that fails its schema', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/echo', payload: { age: -1 } });
    const body = assertProblem(response, 400, 'validation-failed');
    const names = (body.invalidParams as { name: string; reason: string }[]).map((p) => p.name);
    assert.ok(
      names.some((n) => n.startsWith('body')),
      JSON.stringify(body.invalidParams),
    );
    assert.match(String(body.detail), /name|age/);
  });

  it('passes a domain error through with its detail', async () => {
    const body = assertProblem(await app.inject('/api/v1/refuse'), 400, 'bad-request');
    assert.equal(body.detail, 'the date must be in JST');
  });

  it('hides the internals of an unexpected failure behind a plain 500 problem', async () => {
    const response = await app.inject('/api/v1/fail');
    const body = assertProblem(response, 500, 'internal');
    assert.equal(body.detail, undefined);
    assert.doesNotMatch(response.body, /secret|\/srv|stack/);
  });

  it('validates tenant codes in paths: a wrong check digit is 400, an unknown tenant 404', async () => {
    const wrong = assertProblem(await app.inject('/api/v1/tenants/041008'), 400, 'bad-request');
    assert.match(String(wrong.detail), /check digit should be 9/);
    assertProblem(await app.inject('/api/v1/tenants/041009'), 404, 'not-found');
  });

  it('tags every response with a request id, keeping a well-formed one the client sent', async () => {
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-1234.abc' } });
    assert.equal(given.headers['x-request-id'], 'lb-1234.abc');
    const hostile = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'a b\u0000<script>' } });
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const a = await app.inject('/healthz');
    const b = await app.inject('/healthz');
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });

  it('sends security headers on API responses and pages', async () => {
    const response = await app.inject('/api/v1/tenants');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('sends no CORS headers by default, so other sites cannot read the API from a browser', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/tenants',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(response.headers['access-control-allow-origin'], undefined);
    const simple = await app.inject({ url: '/api/v1/tenants', headers: { origin: 'https://evil.example' } });
    assert.equal(simple.headers['access-control-allow-origin'], undefined);
  });

  it('exposes Prometheus metrics with request durations by route and the job queue', async () => {
    await app.inject('/api/v1/tenants');
    const response = await app.inject('/metrics');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    assert.match(
      response.body,
      /machi_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/tenants",status_code="200"\} \d+/,
    );
    assert.match(response.body, /# TYPE machi_jobs gauge/);
    assert.match(response.body, /machi_process_cpu_seconds_total/);
  });
});

describe(`CORS when origins are configured (${backend})`, () => {
  let t: TestDb;
  let app: FastifyInstance;
  before(async () => {
    t = await createTestDb();
    app = await buildApp({ config: testConfig({ CORS_ORIGINS: 'https://portal.city.example' }), db: t.db });
  });
  after(async () => {
    await app.close();
    await t.close();
  });

  it('allows the configured origin and no other', async () => {
    const allowed = await app.inject({
      url: '/api/v1/tenants',
      headers: { origin: 'https://portal.city.example' },
    });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://portal.city.example');
    const other = await app.inject({ url: '/api/v1/tenants', headers: { origin: 'https://evil.example' } });
    assert.notEqual(other.headers['access-control-allow-origin'], 'https://evil.example');
  });
});

describe(`rate limiting shared through the database (${backend})`, () => {
  let t: TestDb;
  const apps: FastifyInstance[] = [];
  const extraDbs: { close(): Promise<void> }[] = [];

  before(async () => {
    t = await createTestDb();
    const config = testConfig({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '60' });
    // Two API instances; on PostgreSQL each has its own connection pool, as two processes would.
    const second = t.databaseUrl ? await openDb({ databaseUrl: t.databaseUrl, poolSize: 2 }) : t.db;
    if (second !== t.db) {
      extraDbs.push(second);
    }
    apps.push(await buildApp({ config, db: t.db }), await buildApp({ config, db: second }));
  });
  after(async () => {
    for (const app of apps) {
      await app.close();
    }
    for (const db of extraDbs) {
      await db.close();
    }
    await t.close();
  });

  it('counts one client across API instances and answers 429 with Retry-After past the limit', async () => {
    const [one, two] = apps as [FastifyInstance, FastifyInstance];
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await one.inject('/api/v1/tenants')).statusCode);
      statuses.push((await two.inject('/api/v1/tenants')).statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const refused = await two.inject('/api/v1/tenants');
    const body = assertProblem(refused, 429, 'too-many-requests');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.match(String(body.detail), /try again in \d+ seconds/);
  });

  it('never limits health checks, so a load balancer is not locked out', async () => {
    const [one] = apps as [FastifyInstance];
    for (let i = 0; i < 8; i++) {
      assert.equal((await one.inject('/healthz')).statusCode, 200);
    }
  });
});

describe(`rate limiting counted in memory far from the limit (${backend})`, () => {
  let t: TestDb;
  const apps: FastifyInstance[] = [];
  let second: Awaited<ReturnType<typeof openDb>> | undefined;

  before(async () => {
    t = await createTestDb();
    const config = testConfig({ RATE_LIMIT_MAX: '200', RATE_LIMIT_WINDOW: '60' });
    second = t.databaseUrl ? await openDb({ databaseUrl: t.databaseUrl, poolSize: 2 }) : undefined;
    apps.push(await buildApp({ config, db: t.db }), await buildApp({ config, db: second ?? t.db }));
  });
  after(async () => {
    for (const app of apps) await app.close();
    await second?.close();
    await t.close();
  });

  const remaining = (response: { headers: Record<string, unknown> }) =>
    Number(response.headers['x-ratelimit-remaining']);

  it('counts every request, shows the other instance its count, and refuses exactly at the limit', async () => {
    const [one, two] = apps as [FastifyInstance, FastifyInstance];
    // Far from the limit, instance one counts in memory; its headers still count down by one.
    const seen: number[] = [];
    for (let i = 0; i < 60; i++) seen.push(remaining(await one.inject('/api/v1/tenants')));
    assert.deepEqual(
      seen,
      Array.from({ length: 60 }, (_, i) => 199 - i),
    );
    // Within a flush interval (100 ms) instance two learns them from the database.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(remaining(await two.inject('/api/v1/tenants')), 200 - 61);
    // From half the limit on, both count in the database: the 201st request is refused, whichever answers.
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) {
      statuses.push((await one.inject('/api/v1/tenants')).statusCode);
      statuses.push((await two.inject('/api/v1/tenants')).statusCode);
    }
    assert.equal(statuses.filter((s) => s === 200).length, 200 - 61);
    assert.deepEqual([...new Set(statuses.slice(200 - 61))], [429]);
  });
});
