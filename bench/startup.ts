/**
 * Embedded start-up time, each start in a fresh process, timed from spawning it to its "ready" line
 * (so Node's own start and module loading count, as they do for a person running `machi start`).
 * Baseline: PGlite with PostGIS and `select 1`. Subject: openMachi (PGlite + every migration) +
 * buildApp + listen. Both on a fresh temporary data folder, then again on the same folder (a warm
 * restart, compared with PGlite's own reopen). Rounds alternate the four; the median counts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChild } from './child.ts';
import { type Comparison, compare, type Measure, median } from './result.ts';

export interface StartupOptions {
  runs: number;
  log: (line: string) => void;
}

interface Ready {
  phases: Record<string, number>;
}

interface Sample {
  ms: number;
  phases: Record<string, number>;
}

type Case = 'pglite fresh' | 'machi fresh' | 'pglite warm' | 'machi warm';

async function startOnce(kind: 'pglite' | 'machi', dir: string): Promise<Sample> {
  const child = await startChild<Ready>('./startup-child.ts', [kind, dir]);
  await child.stop();
  return { ms: child.elapsedMs, phases: child.message.phases };
}

function summarise(label: string, samples: Sample[]): Measure {
  const phases: Record<string, number> = {};
  for (const key of Object.keys(samples[0]?.phases ?? {})) {
    phases[key] = Math.round(median(samples.map((s) => s.phases[key] ?? 0)));
  }
  return {
    label,
    value: Math.round(median(samples.map((s) => s.ms))),
    runs: samples.map((s) => Math.round(s.ms)),
    phases,
  };
}

export async function runStartupBenchmarks(options: StartupOptions): Promise<Comparison[]> {
  const samples: Record<Case, Sample[]> = {
    'pglite fresh': [],
    'machi fresh': [],
    'pglite warm': [],
    'machi warm': [],
  };
  const record = (which: Case, sample: Sample, round: number) => {
    samples[which].push(sample);
    options.log(`  round ${round}: ${which}: ${Math.round(sample.ms)} ms`);
  };
  for (let round = 1; round <= options.runs; round++) {
    const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-bench-pglite-'));
    const machiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-bench-machi-'));
    try {
      record('pglite fresh', await startOnce('pglite', pgliteDir), round);
      record('machi fresh', await startOnce('machi', machiDir), round);
      record('pglite warm', await startOnce('pglite', pgliteDir), round);
      record('machi warm', await startOnce('machi', machiDir), round);
    } finally {
      fs.rmSync(pgliteDir, { recursive: true, force: true });
      fs.rmSync(machiDir, { recursive: true, force: true });
    }
  }
  return [
    compare(
      'startup',
      'start-up, fresh data folder',
      'ms',
      summarise('PGlite + PostGIS', samples['pglite fresh']),
      summarise('Machi', samples['machi fresh']),
      'subject: openMachi (PGlite + PostGIS + every migration) + buildApp + listen; both from process spawn',
    ),
    compare(
      'startup',
      'start-up, warm restart',
      'ms',
      summarise('PGlite + PostGIS reopen', samples['pglite warm']),
      summarise('Machi reopen', samples['machi warm']),
      'the second open of the same data folder: nothing to initialise or migrate',
    ),
  ];
}
