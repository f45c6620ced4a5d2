import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidRequest } from '../../src/broker/errors.ts';
import { parseQ } from '../../src/broker/query/q-parser.ts';
import { compileQ, qRuntimeError } from '../../src/broker/query/q-sql.ts';
import { SqlParams } from '../../src/broker/query/sql-params.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import { CASES, expand, SHELTERS, stored } from './q-cases.ts';

describe(`q compiled to SQL (${backend})`, () => {
  let t: TestDb;

  async function run(q: string): Promise<string[]> {
    const params = new SqlParams();
    const sql = compileQ(parseQ(q), { params, expand });
    const { rows } = await t.db.query<{ id: string }>(
      `select id from q_entities e where ${sql} order by id`,
      params.values,
    );
    return rows.map((r) => r.id.slice('urn:ngsi-ld:Shelter:'.length));
  }

  before(async () => {
    t = await createTestDb();
    await t.db.query('create table q_entities (id text primary key, attrs jsonb not null)');
    for (const [n, attrs] of Object.entries(SHELTERS)) {
      await t.db.query('insert into q_entities (id, attrs) values ($1, $2::jsonb)', [
        `urn:ngsi-ld:Shelter:${n}`,
        JSON.stringify(stored(attrs)),
      ]);
    }
  });
  after(() => t.close());

  for (const [q, expected] of CASES) {
    it(`selects ${expected.length ? expected.join(', ') : 'nothing'} for ${q}`, async () => {
      assert.deepEqual(await run(q), expected);
    });
  }

  it('keeps every client name and value out of the SQL text', async () => {
    const q = `name=="'; drop table q_entities; --";status~="x'--";address[evilcol]`;
    const params = new SqlParams();
    const sql = compileQ(parseQ(q), { params, expand });
    for (const fragment of ['drop', "x'--", 'evilcol', 'name', 'status', 'address']) {
      assert.ok(!sql.includes(fragment), `${fragment} in ${sql}`);
    }
    assert.deepEqual(await run('name=="\'; drop table q_entities; --"'), []);
    assert.equal((await run('capacity')).length, 8);
  });

  it('answers a pattern PostgreSQL cannot compile with InvalidRequest, through qRuntimeError', async () => {
    const error = await run('status~=a**').then(
      () => undefined,
      (e: unknown) => e,
    );
    const mapped = qRuntimeError(error);
    assert.ok(mapped instanceof InvalidRequest, String(error));
    assert.equal(mapped.status, 400);
    assert.match(mapped.message, /^q: invalid regular expression: quantifier operand invalid/);
  });

  it('leaves other database errors to the caller', () => {
    assert.equal(qRuntimeError(Object.assign(new Error('boom'), { code: '57014' })), undefined);
    assert.equal(qRuntimeError('not an error'), undefined);
  });
});
