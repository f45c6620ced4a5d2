import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { brokerOptions, loadBrokerConfig } from '../../src/broker/index.ts';
import { jpkiOptions, mailOptions, upstreamOptions } from '../../src/identity/index.ts';
import {
  ConfigError,
  configWarnings,
  envExample,
  loadConfig,
  platformOptions,
} from '../../src/platform/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function currentEnvExample(): string {
  return envExample(
    { title: 'Platform', options: platformOptions as never },
    { title: 'NGSI-LD broker', options: brokerOptions as never },
    { title: 'My Number Card login', options: jpkiOptions as never },
    { title: 'Upstream login', options: upstreamOptions as never },
    { title: 'Mail to residents', options: mailOptions as never },
  );
}

describe('configuration', () => {
  it('runs the demo on defaults: port 8080, embedded database in ./data', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, path.resolve('./data'));
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.demoData, true);
  });

  it('reads every setting from its environment variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/machi',
      DATABASE_URL: 'postgres://machi@db.internal:5432/machi',
      MACHI_SECRET_KEY: 'a'.repeat(64),
      CORS_ORIGINS: 'https://a.example, https://b.example/',
      TRUST_PROXY: 'yes',
      DEMO_DATA: 'off',
    });
    assert.equal(config.port, 9000);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.dataDir, '/var/lib/machi');
    assert.equal(config.databaseUrl, 'postgres://machi@db.internal:5432/machi');
    assert.deepEqual(config.corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(config.trustProxy, true);
    assert.equal(config.demoData, false);
  });

  it('reports every bad value at once, each with its variable and what it accepts', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://db/machi', LOG_LEVEL: 'loud', BODY_LIMIT: '10' });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems, [
      'PORT="eighty" must be a whole number between 0 and 65535',
      'DATABASE_URL="mysql://db/machi" must start with postgres: or postgresql:',
      'LOG_LEVEL="loud" must be one of fatal, error, warn, info, debug, trace, silent',
      'BODY_LIMIT="10" must be between 1024 and 1073741824',
    ]);
  });

  it('refuses a PostgreSQL server without a master key, since every process must open the same secrets', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'postgres://machi@db.internal:5432/machi' }),
      (error: unknown) =>
        error instanceof ConfigError && /MACHI_SECRET_KEY is required/.test(error.problems[0] ?? ''),
    );
    assert.throws(
      () => loadConfig({ MACHI_SECRET_KEY: 'too-short' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /MACHI_SECRET_KEY=.* must be 32 random bytes/.test(error.problems[0] ?? ''),
    );
  });

  it('warns about settings unsafe in production', () => {
    const warnings = configWarnings(loadConfig({ NODE_ENV: 'production', RATE_LIMIT_MAX: '0' }));
    assert.ok(warnings.some((w) => /rate limiting is off/.test(w)));
    assert.ok(warnings.some((w) => /demo data is on/.test(w)));
    assert.ok(warnings.some((w) => /embedded database/.test(w)));
    assert.deepEqual(configWarnings(loadConfig({})), []);
  });

  it('keeps .env.example in step with the settings the code reads', () => {
    assert.equal(fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8'), currentEnvExample());
  });

  it('documents every setting in the README', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const option of [
      ...platformOptions,
      ...brokerOptions,
      ...jpkiOptions,
      ...upstreamOptions,
      ...mailOptions,
    ]) {
      assert.match(readme, new RegExp(`\\| \`${option.env}\` \\|`), `${option.env} is in the README's table`);
    }
  });

  it('refuses MACHI_AUTH=off unless Machi listens on loopback only', () => {
    assert.equal(loadBrokerConfig({ MACHI_AUTH: 'off' }, '127.0.0.1').auth, 'off');
    assert.throws(() => loadBrokerConfig({ MACHI_AUTH: 'off' }, '0.0.0.0'), {
      problems: ['MACHI_AUTH="off" is only accepted when HOST is a loopback address (HOST=0.0.0.0)'],
    });
    assert.equal(loadBrokerConfig({}, '0.0.0.0').auth, 'on');
  });

  it('stops `machi start` with a readable list of problems and exit code 78', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin/machi.js'), 'start'], {
      env: { ...process.env, PORT: '-1', JOBS_CONCURRENCY: 'many', NGSILD_DEFAULT_TENANT: '041008' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /Invalid configuration:/);
    assert.match(result.stderr, /PORT="-1" must be between 0 and 65535/);
    assert.match(result.stderr, /JOBS_CONCURRENCY="many" must be a whole number/);
    assert.match(
      result.stderr,
      /NGSILD_DEFAULT_TENANT="041008" must be a 全国地方公共団体コード: .*check digit should be 9/,
    );
  });
});
