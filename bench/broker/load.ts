/**
 * The three ways the broker benchmark makes load, each bounded in time and count: autocannon
 * against an HTTP server (throughput), a pool of pg connections in a loop (the SQL baselines), and
 * one request at a time (latency, measured here to the microsecond).
 */
import autocannon from 'autocannon';
import { median } from '../result.ts';
import type { BrokerMeasure } from './report.ts';

export interface Throughput {
  /** Operations per second: requests, or rows when each request carries several. */
  perSecond: number;
  /** 99th-percentile latency of one request, in milliseconds. */
  p99Ms: number;
}

export interface HttpLoad {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A new body (or path, or headers) for every request, e.g. unique entity ids. */
  next: () => { path?: string; body?: string; headers?: Record<string, string> };
  /** Operations one successful request counts for. */
  perRequest?: number;
}

/** autocannon for `seconds` with `connections`; any refused or failed request fails the run. */
export async function httpThroughput(
  load: HttpLoad,
  connections: number,
  seconds: number,
): Promise<Throughput> {
  const result = await autocannon({
    url: load.url,
    connections,
    duration: seconds,
    requests: [
      {
        method: load.method ?? 'GET',
        headers: load.headers ?? {},
        setupRequest: (request) => ({ ...request, ...load.next() }),
      },
    ],
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    throw new Error(`${load.url}: ${failed} of ${result.requests.total} requests failed or were refused`);
  }
  return {
    perSecond: (result.requests.total / (result.duration || seconds)) * (load.perRequest ?? 1),
    p99Ms: result.latency.p99,
  };
}

/** `connections` loops calling `operation` until `seconds` pass; throughput and p99 of one call. */
export async function loopThroughput(
  operation: () => Promise<unknown>,
  connections: number,
  seconds: number,
  perCall = 1,
): Promise<Throughput> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await operation();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: (latencies.length * perCall) / elapsed, p99Ms: percentile(latencies, 0.99) };
}

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  count: number;
}

/** One call at a time: `warmup` calls unmeasured (for at most a quarter of `maxSeconds`), then up to `count` calls or `maxSeconds`. */
export async function sequentialLatency(
  operation: () => Promise<unknown>,
  count: number,
  maxSeconds: number,
  warmup = 10,
): Promise<Latency> {
  const warmupDeadline = performance.now() + (maxSeconds * 1000) / 4;
  for (let i = 0; i < warmup && performance.now() < warmupDeadline; i++) {
    await operation();
  }
  const deadline = performance.now() + maxSeconds * 1000;
  const latencies: number[] = [];
  while (latencies.length < count && performance.now() < deadline) {
    const t0 = performance.now();
    await operation();
    latencies.push(performance.now() - t0);
  }
  return { p50Ms: median(latencies), p99Ms: percentile(latencies, 0.99), count: latencies.length };
}

/** The nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
}

/** A GET that must answer 2xx; the body is read so the connection is reused. */
export async function fetchOk(url: string, init?: RequestInit): Promise<string> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return text;
}

export interface Contender {
  label: string;
  run: (seconds: number) => Promise<Throughput>;
}

/**
 * Runs each contender in turn, `rounds` times, each after a warm-up; the best run of each counts, so
 * a burst of other work on a small machine hurts no contender more than another.
 */
export async function bestOf<K extends string>(
  contenders: Record<K, Contender>,
  timing: { rounds: number; warmupSeconds: number; durationSeconds: number },
  log: (line: string) => void,
): Promise<Record<K, BrokerMeasure>> {
  const entries = Object.entries(contenders) as [K, Contender][];
  const runs = new Map<K, Throughput[]>(entries.map(([key]) => [key, []]));
  for (let round = 1; round <= timing.rounds; round++) {
    for (const [key, contender] of entries) {
      await contender.run(timing.warmupSeconds);
      const run = await contender.run(timing.durationSeconds);
      runs.get(key)?.push(run);
      log(
        `  round ${round}: ${contender.label}: ${Math.round(run.perSecond)}/s, p99 ${run.p99Ms.toFixed(1)} ms`,
      );
    }
  }
  const best = {} as Record<K, BrokerMeasure>;
  for (const [key, contender] of entries) {
    const list = runs.get(key) ?? [];
    const top = list.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    best[key] = {
      label: contender.label,
      value: Math.round(top.perSecond),
      p99Ms: Math.round(top.p99Ms * 10) / 10,
      runs: list.map((r) => Math.round(r.perSecond)),
    };
  }
  return best;
}
