import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the catalogue of problem types', () => {
  it('lists exactly the problem types the code can answer with, with their status and title', () => {
    const code = fs.readFileSync(path.join(ROOT, 'src/platform/errors.ts'), 'utf8');
    const inCode = [...code.matchAll(/super\(\s*(\d{3}),\s*'([a-z-]+)',\s*'([^']+)'/g)]
      .map(([, status, slug, title]) => `${slug} ${status} ${title}`)
      .sort();
    const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
    const inDoc = [...doc.matchAll(/^\| `urn:machi:problem:([a-z-]+)` \| (\d{3}) \| ([^|]+?) \|/gm)]
      .map(([, slug, status, title]) => `${slug} ${status} ${title}`)
      .sort();
    assert.ok(inCode.length >= 10, 'problem types found in the code');
    assert.deepEqual(inDoc, inCode);
  });
});
