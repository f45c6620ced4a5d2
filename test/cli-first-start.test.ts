/**
 * The first `machi start` on a new machine, in a file of its own: each command on the embedded
 * database starts a process that opens PGlite, and together with test/cli.test.ts it would come
 * close to the per-file time limit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, runMachi, startMachi } from './helpers/machi.ts';
import { Browser, myPageToken } from './identity/rig.ts';

// Always the embedded database (that is what a first start uses): in CI, once, in its embedded pass.
const embeddedPass = {
  skip: process.env.MACHI_CI_PASS === 'postgresql' ? 'runs in the embedded-database pass of CI' : false,
};

describe('first start on the embedded database', embeddedPass, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-first-'));
  const folder = path.join(dataDir, 'data');
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('creates the data folder, loads the demo, prints the passwords once and keeps the data', async () => {
    const port = await freePort();
    const env = { DATA_DIR: folder, PORT: String(port) };
    const first = startMachi(['start'], env);
    try {
      await first.waitFor(
        /Machi is running at http:\/\/localhost:\d+ \(the embedded database in .+\)/,
        120_000,
      );
      assert.match(first.output(), /resident\s+041009\s+hanako\.aoba@example\.jp\s+\S{12,}/);
      assert.match(first.output(), /staff\s+041009\s+staff@city\.sendai\.example\.jp/);
      // The demo resident logs in to the portal and finds on My Page the demo service and its read.
      const password = /hanako\.aoba@example\.jp\s+(\S+)/.exec(first.output())?.[1] ?? '';
      const base = `http://localhost:${port}`;
      const token = await myPageToken(
        { baseUrl: base, issuer: `${base}/oidc` },
        new Browser(),
        'hanako.aoba@example.jp',
        password,
      );
      const me = (path: string) =>
        fetch(`${base}/api/v1/me${path}`, { headers: { authorization: `Bearer ${token}` } }).then(
          (r) => r.json() as Promise<Record<string, { text?: string; service?: { name: string } }[]>>,
        );
      assert.equal((await me('/consents')).consents?.[0]?.service?.name, '仙台こどもオンライン診療（デモ）');
      assert.match(
        (await me('/access-log')).entries?.[0]?.text ?? '',
        /仙台こどもオンライン診療（デモ） が 予防接種記録 を 閲覧しました（目的: 医療相談）/,
      );
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/tenants`)).json()) as {
        tenants: { code: string; name: string }[];
      };
      assert.deepEqual(
        body.tenants.map((x) => `${x.code} ${x.name}`),
        [
          '040002 宮城県',
          '041009 仙台市',
          '042021 石巻市',
          '042030 塩竈市',
          '120006 千葉県',
          '122033 市川市',
        ],
      );
      // A second process on the same folder is refused while the first holds it.
      const second = await runMachi(['tenant', 'list'], { DATA_DIR: folder });
      assert.equal(second.status, 1);
      assert.match(second.stderr, /in use by process \d+/);
    } finally {
      assert.equal(await first.stop('SIGTERM'), 0);
    }
    assert.ok(fs.existsSync(path.join(folder, 'pgdata')));

    const restart = startMachi(['start'], { DATA_DIR: folder, PORT: String(await freePort()) });
    try {
      await restart.waitFor(/Machi is running/, 120_000);
      assert.doesNotMatch(restart.output(), /Demo accounts/);
    } finally {
      await restart.stop('SIGTERM');
    }
    const list = await runMachi(['tenant', 'list'], { DATA_DIR: folder });
    assert.match(list.stdout, /042030\s+municipality\s+塩竈市/);
  });
});
