/**
 * Benchmarks run what they measure in child processes: a server must not share its event loop
 * with the load generator, and a start-up must begin from a cold process.
 * A child announces itself with one JSON line on standard output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { migrationSources } from '../src/main.ts';
import {
  type Db,
  loadConfig,
  loadMigrations,
  migrate,
  openDb,
  openSecretBox,
  type PlatformConfig,
  type SecretBox,
} from '../src/platform/index.ts';

export interface Child<T> {
  /** The child's first line, parsed. */
  message: T;
  /** Milliseconds from spawning the child to its first line. */
  elapsedMs: number;
  /** Stops the child and waits for it to exit. */
  stop(): Promise<void>;
}

const MAX_WAIT_MS = 60_000;

/** Runs `bench/<script>` in a fresh Node process and waits for its first JSON line. */
export function startChild<T>(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Child<T>> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, [file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not answer within ${MAX_WAIT_MS / 1000} s`));
    }, MAX_WAIT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${script} ${args.join(' ')} exited (${code}) before it answered`));
    };
    child.once('exit', onExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end < 0) {
        return;
      }
      const elapsedMs = performance.now() - started;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve({ message: JSON.parse(buffered.slice(0, end)) as T, elapsedMs, stop: () => stopChild(child) });
    });
  });
}

/** Closes the child's standard input, which tells it to shut down cleanly; kills it if it lingers. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
  });
}

/** Resolves when standard input closes: the parent's signal that a child should stop. */
export function parentGone(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.resume();
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
}

/** The master key of benchmark deployments (MACHI_SECRET_KEY is required with a PostgreSQL server). */
export const BENCH_SECRET_KEY = Buffer.alloc(32, 3).toString('base64url');

/**
 * A migrated deployment for a benchmark server process: PostgreSQL at MACHI_BENCH_DATABASE_URL,
 * else the embedded database in a new temporary folder (`name` in its name); silent logs, no demo,
 * rate limiting far out of the way. The port is chosen first: the issuer is in every token.
 */
export async function benchDeployment(
  name: string,
): Promise<{ port: number; config: PlatformConfig; db: Db; box: SecretBox; dataDir: string | undefined }> {
  const databaseUrl = process.env.MACHI_BENCH_DATABASE_URL || undefined;
  const dataDir = databaseUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), `machi-bench-${name}-`));
  const probe = Fastify();
  await probe.listen({ host: '127.0.0.1', port: 0 });
  const { port } = probe.server.address() as { port: number };
  await probe.close();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DEMO_DATA: 'false',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    RATE_LIMIT_MAX: '10000000',
    MACHI_SECRET_KEY: BENCH_SECRET_KEY,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir as string }),
  });
  const db = await openDb({ databaseUrl, dataDir, poolSize: config.databasePoolSize });
  await migrate(db, loadMigrations(migrationSources));
  return { port, config, db, box: await openSecretBox(config), dataDir };
}
