#!/usr/bin/env node
// Machi runs on Node.js 22, which the project installs itself (the `node` package). When this file
// is started by an older system Node, it hands over to the project's own.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const require = createRequire(import.meta.url);
  let node22;
  try {
    node22 = require.resolve('node/bin/node');
  } catch {
    process.stderr.write('machi needs Node.js 22 or later: run `npm install` first.\n');
    process.exit(1);
  }
  const result = spawnSync(node22, process.argv.slice(1), { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
