import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map(([, spec]) =>
    path.resolve(path.dirname(file), spec ?? ''),
  );
}

const capabilityOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] ?? '';

describe('module boundaries', () => {
  it('keeps the platform free of imports from other capabilities', () => {
    for (const file of sourceFiles(path.join(SRC, 'platform'))) {
      for (const target of relativeImports(file)) {
        assert.equal(
          capabilityOf(target),
          'platform',
          `${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`,
        );
      }
    }
  });

  it('lets one capability use another only through its index.ts', () => {
    for (const file of sourceFiles(SRC)) {
      const own = capabilityOf(file);
      if (own === 'main.ts' || own === 'cli.ts') {
        continue;
      }
      for (const target of relativeImports(file)) {
        if (capabilityOf(target) !== own) {
          assert.equal(
            path.basename(target),
            'index.ts',
            `${path.relative(SRC, file)} reaches into ${path.relative(SRC, target)}`,
          );
        }
      }
    }
  });
});
