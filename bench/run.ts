/**
 * `npm run bench [-- http|startup]`: runs each benchmark in turn, prints a table of ratios against
 * baselines measured in the same run, and writes every figure to bench/results/latest.json.
 * Set BENCH_DATABASE_URL (a PostgreSQL server with PostGIS, as a user that may create databases)
 * to also run the HTTP benchmark on PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runHttpBenchmarks } from './http.ts';
import { type Comparison, formatTable } from './result.ts';
import { runStartupBenchmarks } from './startup.ts';

const SETTINGS = {
  http: { connections: 10, warmupSeconds: 1, durationSeconds: 3, rounds: 2 },
  startup: { runs: 3 },
};

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url));

const log = (line: string) => process.stderr.write(`${line}\n`);

const benchmarks: Record<string, () => Promise<Comparison[]>> = {
  http: () =>
    runHttpBenchmarks({ ...SETTINGS.http, databaseUrl: process.env.BENCH_DATABASE_URL || undefined, log }),
  startup: () => runStartupBenchmarks({ ...SETTINGS.startup, log }),
};

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  log(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const comparisons: Comparison[] = [];
const failed: string[] = [];
for (const [name, run] of Object.entries(benchmarks)) {
  if (chosen.length > 0 && !chosen.includes(name)) {
    continue;
  }
  log(`${name}…`);
  try {
    comparisons.push(...(await run()));
  } catch (error) {
    // The other benchmarks still tell something; the exit code says that one failed.
    log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    failed.push(name);
    process.exitCode = 1;
  }
}
const seconds = Math.round((performance.now() - started) / 1000);

const cpus = os.cpus();
const machine = {
  cores: cpus.length,
  cpu: cpus[0]?.model ?? 'unknown',
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`,
  node: process.version,
};

process.stdout.write(`\n${formatTable(comparisons)}\n`);
process.stdout.write(
  `\n${machine.cores} cores (${machine.cpu}), Node ${machine.node}; ${seconds} s in all. Written to ${RESULTS}\n`,
);

/** Indented JSON with lists of numbers on one line, as `biome check` formats it. */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g,
    (_, list: string) => `[${list.split(/,\s+/).join(', ')}]`,
  );
}

fs.mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
fs.writeFileSync(
  RESULTS,
  `${toJson({ date: new Date().toISOString(), machine, settings: SETTINGS, seconds, failed, comparisons })}\n`,
);
