import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAccountByEmail, listStaff } from '../src/identity/index.ts';
import type { Db } from '../src/platform/index.ts';
import { backend } from './helpers/db.ts';
import {
  type CommandDb,
  commandDb,
  commandSuite,
  freePort,
  type RunningMachi,
  runMachi,
  startMachi,
} from './helpers/machi.ts';

describe(`machi command (${backend})`, commandSuite, () => {
  let command: CommandDb;
  let env: Record<string, string>;
  const running: RunningMachi[] = [];
  const inspect = <T>(fn: (db: Db) => Promise<T>) => command.inspect(fn);

  before(async () => {
    command = await commandDb();
    env = command.env;
  });
  after(async () => {
    for (const m of running) {
      await m.stop('SIGKILL');
    }
    await command.close();
  });

  it('refuses a tenant code with a wrong check digit and says which digit it expected', async () => {
    const result = await runMachi(['tenant', 'add', '041008', '仙台市', 'Sendai City'], env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /check digit should be 9/);
  });

  it('adds a prefecture and its cities and lists them', async () => {
    for (const [code, name, nameEn] of [
      ['040002', '宮城県', 'Miyagi Prefecture'],
      ['041009', '仙台市', 'Sendai City'],
    ] as const) {
      const result = await runMachi(['tenant', 'add', code, name, nameEn], env);
      assert.equal(result.status, 0, result.stderr);
    }
    const list = await runMachi(['tenant', 'list'], env);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /040002\s+prefecture\s+宮城県 \(Miyagi Prefecture\)/);
    assert.match(list.stdout, /041009\s+municipality\s+仙台市 \(Sendai City\)\s+⊂ 040002/);
  });

  it('adds a staff account with a role in one tenant and prints its password once', async () => {
    const result = await runMachi(
      [
        'user',
        'add',
        '--tenant',
        '041009',
        '--email',
        'kikaku@city.sendai.example.jp',
        '--name',
        '企画 一郎',
        '--role',
        'editor',
      ],
      env,
    );
    assert.equal(result.status, 0, result.stderr);
    const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
    assert.ok(password && password.length >= 12);
    const staff = await inspect((db) => listStaff(db, '041009'));
    assert.deepEqual(
      staff.map((s) => [s.email, s.roles]),
      [['kikaku@city.sendai.example.jp', ['editor']]],
    );
    const again = await runMachi(
      ['user', 'add', '--tenant', '041009', '--email', 'KIKAKU@city.sendai.example.jp', '--name', '企画'],
      env,
    );
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists already/);
  });

  it('reloads the demo with new passwords', async () => {
    const first = await runMachi(['demo'], env);
    const second = await runMachi(['demo'], env);
    assert.equal(first.status, 0, first.stderr);
    const passwordOf = (out: string) => /hanako\.aoba@example\.jp\s+(\S+)/.exec(out)?.[1];
    assert.ok(passwordOf(first.stdout));
    assert.notEqual(passwordOf(first.stdout), passwordOf(second.stdout));
    assert.match(second.stdout, /staff\s+041009\s+staff@city\.sendai\.example\.jp/);
    const resident = await inspect((db) => findAccountByEmail(db, 'hanako.aoba@example.jp'));
    assert.equal(resident?.homeTenantCode, '041009');
  });

  it('starts the API and workers, serves until SIGTERM, then exits cleanly', async () => {
    const port = await freePort();
    const machi = startMachi(['start'], { ...env, PORT: String(port) });
    running.push(machi);
    await machi.waitFor(/Machi is running at http:\/\/localhost:\d+/);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    const tenants = (await (await fetch(`http://127.0.0.1:${port}/api/v1/tenants`)).json()) as {
      tenants: unknown[];
    };
    assert.ok(tenants.tenants.length >= 2);
    assert.equal(await machi.stop('SIGTERM'), 0);
  });

  it('starts a worker alone for scale-out', async () => {
    const machi = startMachi(['start', '--role', 'worker'], env);
    running.push(machi);
    await machi.waitFor(/Machi worker \S+ is taking jobs/);
    const code = await machi.stop('SIGTERM');
    assert.equal(code, 0, `${machi.child.signalCode} ${machi.output()}`);
  });

  it('rejects an unknown role', async () => {
    const result = await runMachi(['start', '--role', 'everything'], env);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--role must be all, api or worker/);
  });
});
