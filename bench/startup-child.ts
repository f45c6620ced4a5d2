/**
 * One start-up for the start-up benchmark, in a fresh process.
 * `pglite <dir>`: PGlite with PostGIS in <dir>/pgdata, then `select 1` (the baseline).
 * `machi <dir>`: openMachi (PGlite and every migration) + buildApp + listen on 127.0.0.1.
 * Prints its phases (milliseconds since the process started) once ready; stops when standard
 * input closes, closing the database cleanly so that the next open of <dir> is a warm restart.
 */
import path from 'node:path';
import { parentGone } from './child.ts';

interface Started {
  phases: Record<string, number>;
  close(): Promise<void>;
}

// Each kind imports only what it uses, so the baseline does not pay for loading Machi's modules.
async function startPglite(dir: string): Promise<Started> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { postgis } = await import('@electric-sql/pglite-postgis');
  const modulesLoaded = performance.now();
  const pglite = await PGlite.create(path.join(dir, 'pgdata'), { extensions: { postgis } });
  await pglite.query('select 1');
  return {
    phases: { modules: modulesLoaded, database: performance.now() - modulesLoaded },
    close: () => pglite.close(),
  };
}

async function startMachi(dir: string): Promise<Started> {
  const { buildApp, openMachi } = await import('../src/main.ts');
  const { loadConfig } = await import('../src/platform/index.ts');
  const modulesLoaded = performance.now();
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', DEMO_DATA: 'false', PORT: '0' });
  const { db } = await openMachi({ config });
  const opened = performance.now();
  const app = await buildApp({ config, db });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    phases: { modules: modulesLoaded, database: opened - modulesLoaded, app: performance.now() - opened },
    async close() {
      await app.close();
      await db.close();
    },
  };
}

const [kind, dir] = process.argv.slice(2);
if ((kind !== 'pglite' && kind !== 'machi') || !dir) {
  process.stderr.write('usage: startup-child.ts pglite|machi <data folder>\n');
  process.exit(2);
}
const started = kind === 'pglite' ? await startPglite(dir) : await startMachi(dir);
process.stdout.write(`${JSON.stringify({ phases: started.phases })}\n`);
await parentGone();
await started.close();
