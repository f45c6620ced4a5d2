/**
 * The `machi` command's administration of tenants (aliases), entity types, services and signing
 * keys, run as a real process against a real database. Split from cli.test.ts so that neither file
 * nears the per-file time limit on the embedded database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadDemo } from '../src/demo/index.ts';
import type { Db } from '../src/platform/index.ts';
import { backend } from './helpers/db.ts';
import { type CommandDb, commandDb, commandSuite, type RunningMachi, runMachi } from './helpers/machi.ts';

describe(`machi command: tenants, types, services, keys (${backend})`, commandSuite, () => {
  let command: CommandDb;
  let env: Record<string, string>;
  const running: RunningMachi[] = [];
  const inspect = <T>(fn: (db: Db) => Promise<T>) => command.inspect(fn);

  before(async () => {
    // The demo's tenants and aliases (sendai, …), loaded here rather than by a slower `machi demo`.
    command = await commandDb((db) => loadDemo(db));
    env = command.env;
  });
  after(async () => {
    for (const m of running) {
      await m.stop('SIGKILL');
    }
    await command.close();
  });

  it('adds a tenant with aliases, registers more later, and lists tenants with their aliases', async () => {
    const tokyo = await runMachi(
      ['tenant', 'add', '130001', '東京都', 'Tokyo Metropolis', '--alias', 'tokyo,tokyo-to'],
      env,
    );
    assert.match(tokyo.stdout, /Added prefecture 130001 東京都\s+\(aliases: tokyo, tokyo-to\)/, tokyo.stderr);
    const more = await runMachi(['tenant', 'alias', '041009', 'sendai-shi'], env);
    assert.equal(more.status, 0, more.stderr);
    const list = await runMachi(['tenant', 'list'], env);
    assert.match(
      list.stdout,
      /130001\s+prefecture\s+東京都 \(Tokyo Metropolis\)\s+\(aliases: tokyo, tokyo-to\)/,
    );
    // `sendai` comes from the demo, reloaded above.
    assert.match(
      list.stdout,
      /041009\s+municipality\s+仙台市 \(Sendai City\)\s+⊂ 040002\s+\(aliases: sendai, sendai-shi\)/,
    );
    const taken = await runMachi(['tenant', 'alias', 'tokyo', 'sendai'], env);
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /the alias sendai already names tenant 041009/);
  });

  it('marks entity types of a tenant public or personal and prints its classes', async () => {
    const marked = await runMachi(
      ['broker', 'types', 'sendai', '--public', 'Park', '--personal', 'Resident,Patient'],
      env,
    );
    assert.equal(marked.status, 0, marked.stderr);
    assert.match(marked.stdout, /^public\s+AED$/m, 'the demo made its open data public');
    assert.match(marked.stdout, /^public\s+Park$/m);
    assert.match(marked.stdout, /^personal\s+Resident$/m);
    assert.match(marked.stdout, /^personal\s+Patient$/m);
  });

  it('registers a service for a tenant, printing its secret once and storing it sealed', async () => {
    const added = await runMachi(
      [
        'client',
        'add',
        '--tenant',
        '041009',
        '--name',
        '遠隔診療',
        '--redirect-uri',
        'https://telemed.example/cb',
      ],
      env,
    );
    assert.equal(added.status, 0, added.stderr);
    const clientId = /^client_id: (\S+)$/m.exec(added.stdout)?.[1];
    const secret = /^client_secret \(shown once\): (\S+)$/m.exec(added.stdout)?.[1];
    assert.ok(clientId && secret, added.stdout);
    const stored = await inspect((db) =>
      db.query<{ secret_sealed: string; tenant_id: string }>(
        'select secret_sealed, tenant_id from identity.clients where id = $1',
        [clientId],
      ),
    );
    assert.equal(stored.rows[0]?.tenant_id, '041009');
    assert.ok(!stored.rows[0]?.secret_sealed.includes(secret), 'the secret is not stored in the clear');
    const listed = await runMachi(['client', 'list', '--tenant', '041009'], env);
    assert.match(listed.stdout, new RegExp(`^${clientId}\\s+遠隔診療`, 'm'));
  });

  it('rotates signing keys and says which key signs, which is published next and which is kept', async () => {
    const rotated = await runMachi(['keys', 'rotate'], env);
    assert.equal(rotated.status, 0, rotated.stderr);
    const said = /^Signing with ([\w-]+); published next: ([\w-]+)/.exec(rotated.stdout);
    assert.ok(said, rotated.stdout);
    const states = await inspect((db) =>
      db.query<{ kid: string; state: string }>('select kid, state from identity.signing_keys'),
    );
    const stateOf = new Map(states.rows.map((r) => [r.kid, r.state]));
    assert.equal(stateOf.get(said[1] as string), 'current');
    assert.equal(stateOf.get(said[2] as string), 'next');
  });
});
