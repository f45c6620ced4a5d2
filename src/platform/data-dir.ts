/**
 * The embedded database is one process's: a lock file in DATA_DIR says which process holds it,
 * so a second `machi` on the same folder stops with a clear message instead of corrupting it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ServiceUnavailable } from './errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data folder for this process; returns the function that releases it. */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'machi.pid');
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (!released) {
          released = true;
          fs.rmSync(file, { force: true });
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
      const holder = Number(fs.readFileSync(file, 'utf8'));
      if (holder && holder !== process.pid && alive(holder)) {
        throw new ServiceUnavailable(
          `the embedded database in ${dataDir} is in use by process ${holder}; stop it first, or run several processes on PostgreSQL (DATABASE_URL)`,
        );
      }
      // Left behind by a process that died: take it over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new ServiceUnavailable(`cannot lock ${dataDir}`);
}
