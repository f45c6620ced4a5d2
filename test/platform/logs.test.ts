import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/main.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';

const NAME = '山田 太郎';
const ADDRESS = '宮城県仙台市青葉区国分町三丁目7番1号';
const EMAIL = 'taro.yamada@example.jp';
const PHONE = '090-1234-5678';

/** Every form in which a value could reach a log line. */
function traces(value: string): string[] {
  return [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), value.split(' ')[0] ?? value];
}

describe(`logs (${backend})`, () => {
  let t: TestDb;
  let app: FastifyInstance;
  const lines: string[] = [];

  before(async () => {
    t = await createTestDb();
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    app = await buildApp({ config: testConfig({ LOG_LEVEL: 'trace' }), db: t.db, logStream });
    // Routes such as a resident service would have, carrying personal data in path, query and body.
    app.post('/api/v1/residents/:name', async (request) => ({
      received: Object.keys(request.body as object),
    }));
    app.get('/api/v1/residents/:name/fail', async () => {
      throw new Error('lookup failed');
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await t.close();
  });

  it("never write a resident's name, address, e-mail or phone, wherever the request carried them", async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/residents/${encodeURIComponent(NAME)}?address=${encodeURIComponent(ADDRESS)}&email=${encodeURIComponent(EMAIL)}`,
      headers: {
        'content-type': 'application/json',
        'x-resident-name': encodeURIComponent(NAME),
        cookie: `session=${encodeURIComponent(EMAIL)}`,
        authorization: 'Bearer secret-token-value',
      },
      payload: { name: NAME, address: ADDRESS, email: EMAIL, phone: PHONE },
    });
    assert.equal(response.statusCode, 200);
    const failed = await app.inject(`/api/v1/residents/${encodeURIComponent(NAME)}/fail?phone=${PHONE}`);
    assert.equal(failed.statusCode, 500);
    const malformed = await app.inject({
      method: 'POST',
      url: `/api/v1/residents/${encodeURIComponent(NAME)}`,
      headers: { 'content-type': 'application/json' },
      payload: `{"address": "${ADDRESS}"`,
    });
    assert.equal(malformed.statusCode, 400);

    assert.ok(lines.length >= 6, `requests were logged (${lines.length} lines)`);
    for (const line of lines) {
      assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
      for (const value of [NAME, ADDRESS, EMAIL, PHONE, 'secret-token-value'].flatMap(traces)) {
        assert.ok(!line.includes(value), `log line leaks "${value}": ${line}`);
      }
    }
  });

  it('still tells operators which route, method, status and request id each line is about', () => {
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const incoming = entries.find((e) => e.msg === 'incoming request');
    assert.deepEqual(Object.keys((incoming?.req as object) ?? {}).sort(), ['id', 'method', 'route']);
    assert.equal((incoming?.req as { route?: string } | undefined)?.route, '/api/v1/residents/:name');
    const failure = entries.find((e) => e.msg === 'request failed');
    assert.equal((failure?.err as { message?: string } | undefined)?.message, 'lookup failed');
    assert.ok(entries.some((e) => (e.res as { statusCode?: number } | undefined)?.statusCode === 500));
    assert.ok(entries.every((e) => typeof e.time === 'string' && e.service === 'machi'));
  });
});
