/**
 * The provider's storage in PostgreSQL: what the library stores comes back, consumed codes say
 * so, a grant's tokens go with it, and expired rows are invisible and swept.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresAdapter, sweepOidcModels } from '../../src/identity/oidc/adapter.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

describe(`OIDC storage (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  it('stores, finds by id and by uid, and marks a consumed code', async () => {
    const codes = new PostgresAdapter(t.db, 'AuthorizationCode');
    await codes.upsert('code-1', { grantId: 'g1', accountId: 'a1' }, 60);
    assert.equal((await codes.find('code-1'))?.grantId, 'g1');
    assert.equal((await codes.find('code-1'))?.consumed, undefined);
    await codes.consume('code-1');
    assert.ok(
      (await codes.find('code-1'))?.consumed,
      'a consumed code reads as consumed, so reuse is caught',
    );
    const sessions = new PostgresAdapter(t.db, 'Session');
    await sessions.upsert('s1', { uid: 'uid-1', accountId: 'a1' }, 60);
    assert.equal((await sessions.findByUid('uid-1'))?.accountId, 'a1');
    assert.equal(await codes.findByUid('uid-1'), undefined, 'models do not see each other');
  });

  it('revokes every token of a grant at once', async () => {
    const access = new PostgresAdapter(t.db, 'AccessToken');
    const refresh = new PostgresAdapter(t.db, 'RefreshToken');
    await access.upsert('at-1', { grantId: 'g2' }, 60);
    await refresh.upsert('rt-1', { grantId: 'g2' }, 60);
    await access.upsert('at-other', { grantId: 'g3' }, 60);
    await access.revokeByGrantId('g2');
    assert.equal(await access.find('at-1'), undefined);
    assert.equal(await refresh.find('rt-1'), undefined);
    assert.ok(await access.find('at-other'));
  });

  it('hides expired rows at once and sweeps them, keeping live ones', async () => {
    const tokens = new PostgresAdapter(t.db, 'AccessToken');
    await tokens.upsert('old', { grantId: 'g4' }, 60);
    await tokens.upsert('live', { grantId: 'g4' }, 60);
    await t.db.query(
      `update identity.oidc_models set expires_at = now() - interval '1 second' where id = 'old'`,
    );
    assert.equal(await tokens.find('old'), undefined, 'an expired token is gone for the provider');
    assert.ok((await sweepOidcModels(t.db)) >= 1);
    const { rows } = await t.db.query<{ id: string }>(
      `select id from identity.oidc_models where id in ('old', 'live')`,
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      ['live'],
    );
  });
});
