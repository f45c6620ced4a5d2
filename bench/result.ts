/**
 * What a benchmark reports: a subject measured against a baseline in the same run, so the ratio
 * says more than either figure on a machine whose speed varies.
 */

/** One measured thing: requests per second (with p99 latency) or milliseconds. */
export interface Measure {
  label: string;
  value: number;
  /** HTTP only: 99th-percentile latency of the run that gave `value`. */
  p99Ms?: number;
  /** Every run, for the record; `value` is the best (HTTP) or the median (start-up). */
  runs: number[];
  /** Start-up only: median milliseconds of each phase, as the child measured them. */
  phases?: Record<string, number>;
}

export interface Comparison {
  group: 'http' | 'startup' | 'identity';
  name: string;
  unit: 'req/s' | 'ms';
  baseline: Measure;
  subject: Measure;
  /** subject / baseline: below 1 is slower for req/s, above 1 is slower for ms. */
  ratio: number;
  note?: string;
}

export function compare(
  group: Comparison['group'],
  name: string,
  unit: Comparison['unit'],
  baseline: Measure,
  subject: Measure,
  note?: string,
): Comparison {
  return {
    group,
    name,
    unit,
    baseline,
    subject,
    ratio: Math.round((subject.value / baseline.value) * 1000) / 1000,
    ...(note ? { note } : {}),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function formatMeasure(measure: Measure, unit: Comparison['unit']): string {
  const main = `${whole.format(measure.value)} ${unit}`;
  if (measure.p99Ms === undefined) {
    return main;
  }
  // autocannon reports latency in whole milliseconds.
  return `${main}, p99 ${measure.p99Ms < 1 ? '<1' : whole.format(measure.p99Ms)} ms`;
}

/** A plain-text table, one row per comparison, with a key for the ratio's direction. */
export function formatTable(comparisons: Comparison[]): string {
  const header = ['benchmark', 'baseline', 'subject', 'ratio'];
  const rows = comparisons.map((c) => [
    c.name,
    `${c.baseline.label}: ${formatMeasure(c.baseline, c.unit)}`,
    `${c.subject.label}: ${formatMeasure(c.subject, c.unit)}`,
    `${c.ratio.toFixed(2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  const key =
    'ratio = subject / baseline: for req/s below 1× is slower than the baseline; for ms above 1× is slower.';
  return [line(header), rule, ...rows.map(line), '', key].join('\n');
}
