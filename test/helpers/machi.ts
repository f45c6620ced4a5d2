/** Runs the `machi` command as a user would, in a child process on Node 22. */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { type Db, openDb } from '../../src/platform/index.ts';
import { createTestDb, type TestDb } from './db.ts';

export const MACHI = path.resolve(import.meta.dirname, '../../bin/machi.js');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child: quiet logs, and nothing from the outer test run's database choice. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete base.DATABASE_URL;
  delete base.DATA_DIR;
  return { ...base, ...env };
}

export function runMachi(args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MACHI, ...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface RunningMachi {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startMachi(args: string[], env: Record<string, string>): RunningMachi {
  const child = spawn(process.execPath, [MACHI, ...args], { env: childEnv(env) });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const l of listeners) {
      l();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`machi exited before ${pattern}; output:\n${out}`));
          }
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * The `machi` command's tests start a process per command, each opening the database: on the
 * embedded one that costs seconds of CPU apiece. CI runs them in its PostgreSQL pass only (the
 * embedded path of the command is what cli-first-start.test.ts runs there); outside CI they always run.
 */
export const commandSuite = {
  skip:
    process.env.MACHI_CI_PASS === 'embedded'
      ? 'the machi command is tested in the PostgreSQL pass of CI'
      : false,
};

/** A database for `machi` commands to work on, and a way to look into it after they exit. */
export interface CommandDb {
  /** The commands' environment: the database, the secret key, no demo data. */
  env: Record<string, string>;
  /** Runs `fn` on the database the commands wrote to (after they have exited). */
  inspect<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A test database handed to `machi` commands: `prepare` runs on it first (e.g. loading the demo),
 * then an embedded one is closed, since it is one process's at a time.
 */
export async function commandDb(prepare?: (db: Db) => Promise<unknown>): Promise<CommandDb> {
  const t: TestDb = await createTestDb({ persistent: true });
  await prepare?.(t.db);
  if (!t.databaseUrl) await t.db.close();
  return {
    env: { ...t.env, DEMO_DATA: 'false' },
    async inspect(fn) {
      if (t.databaseUrl) return fn(t.db);
      const db = await openDb({ dataDir: t.dataDir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    close: () => t.close(),
  };
}
