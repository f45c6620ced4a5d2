/**
 * The broker benchmark's rows: like bench/result.ts's comparisons, with a target per row and room
 * for a row that could not be measured (a route another part of the broker does not have yet).
 */

export interface BrokerMeasure {
  label: string;
  /** Throughput rows: the best run's operations per second. Latency rows: p99 in milliseconds. */
  value: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Every run's value, for the record. */
  runs: number[];
  /** Latency rows: how many requests were timed. */
  count?: number;
}

export interface BrokerRow {
  /** The consent benchmark's rows take this shape too, with a cost ratio (bench/consent). */
  group: 'broker' | 'consent';
  name: string;
  unit: 'entities/s' | 'req/s' | 'ms';
  target: string;
  baseline?: BrokerMeasure;
  subject?: BrokerMeasure;
  /** Throughput: subject / baseline (below 1 is slower). Latency: subject p99 / baseline p99. */
  ratio?: number;
  /** Whether the target was met; absent when nothing was measured. */
  met?: boolean;
  /** Why the row was not measured. */
  notAvailable?: string;
  note?: string;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A throughput row; the target is a ratio of at least `minRatio`. */
export function throughputRow(
  name: string,
  unit: 'entities/s' | 'req/s',
  baseline: BrokerMeasure,
  subject: BrokerMeasure,
  minRatio: number,
  note?: string,
): BrokerRow {
  const ratio = round3(subject.value / baseline.value);
  return {
    group: 'broker',
    name,
    unit,
    target: `≥ ${minRatio}×`,
    baseline,
    subject,
    ratio,
    met: ratio >= minRatio,
    ...(note ? { note } : {}),
  };
}

/** A latency row; the target is an absolute p99 below `maxP99Ms`. */
export function latencyRow(
  name: string,
  baseline: BrokerMeasure | undefined,
  subject: BrokerMeasure,
  maxP99Ms: number,
  note?: string,
): BrokerRow {
  return {
    group: 'broker',
    name,
    unit: 'ms',
    target: `p99 < ${maxP99Ms} ms`,
    ...(baseline ? { baseline, ratio: round3(subject.value / baseline.value) } : {}),
    subject,
    met: subject.value < maxP99Ms,
    ...(note ? { note } : {}),
  };
}

export function unavailableRow(
  name: string,
  unit: BrokerRow['unit'],
  target: string,
  why: string,
): BrokerRow {
  return { group: 'broker', name, unit, target, notAvailable: why };
}

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ms = (x: number) => (x < 10 ? x.toFixed(1) : whole.format(x));

function cell(measure: BrokerMeasure | undefined, unit: BrokerRow['unit']): string {
  if (!measure) {
    return '—';
  }
  if (unit === 'ms') {
    return `${measure.label}: p50 ${ms(measure.p50Ms ?? Number.NaN)} ms, p99 ${ms(measure.value)} ms`;
  }
  const p99 = measure.p99Ms === undefined ? '' : `, p99 ${ms(measure.p99Ms)} ms`;
  return `${measure.label}: ${whole.format(measure.value)} ${unit}${p99}`;
}

const BROKER_KEY =
  'ratio = subject / baseline: for entities/s and req/s below 1× is slower; for latency, p99 over p99.';

/** A plain-text table: name, baseline, subject, ratio, target (and whether it was met), then `key`. */
export function formatBrokerTable(rows: BrokerRow[], key = BROKER_KEY): string {
  const header = ['benchmark', 'baseline', 'subject', 'ratio', 'target'];
  const cells = rows.map((r) => [
    r.name,
    cell(r.baseline, r.unit),
    r.notAvailable ? `not available: ${r.notAvailable}` : cell(r.subject, r.unit),
    r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`,
    r.met === undefined ? r.target : `${r.target} ${r.met ? 'met' : 'MISSED'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line), '', key].join('\n');
}
