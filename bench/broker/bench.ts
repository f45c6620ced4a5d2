/** What every part of the broker benchmark shares: the servers, the database, and the settings. */
import type pg from 'pg';
import type { ActiveContext } from '../../src/broker/context/json-ld.ts';
import { TENANT } from './entity.ts';

export interface BrokerSettings {
  /** Concurrent connections for throughput (HTTP and the pg baselines alike). */
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  rounds: number;
  /** Entities per batch upsert request, and rows per multi-row insert. */
  batchSize: number;
  /** Entity counts at which queries are timed, smallest first (BENCH_BROKER_ROWS). */
  rows: number[];
  /** Requests timed per query and size (fewer if `latencySeconds` runs out). */
  latencyCount: number;
  latencySeconds: number;
  /** Notifications timed. */
  notifications: number;
  /** Which parts run (BENCH_BROKER_PARTS); all of them by default. */
  parts: Set<BrokerPart>;
}

export const BROKER_PARTS = ['writes', 'reads', 'notify', 'queries'] as const;
export type BrokerPart = (typeof BROKER_PARTS)[number];

/** Which of the broker's routes this tree has, found by asking the running server. */
export interface Routes {
  upsert: boolean;
  subscriptions: boolean;
  patchAttrs: boolean;
}

export interface BrokerBench {
  /** Machi with rate limiting on, as deployed. */
  machi: string;
  /** The same Machi with rate limiting off, to show what the per-request rate-limit write costs. */
  machiUnlimited: string;
  /** Whether the Machi child runs a job worker (the broker has job handlers). */
  worker: boolean;
  routes: Routes;
  /** Connections to the benchmark's database as its owner (baselines, bulk loads). */
  pool: pg.Pool;
  ctx: ActiveContext;
  /** Unique to this run, so ids never collide with an earlier run's. */
  tag: string;
  settings: BrokerSettings;
  log: (line: string) => void;
}

export const JSON_HEADERS = { 'content-type': 'application/json', 'ngsild-tenant': TENANT };
export const READ_HEADERS = { accept: 'application/json', 'ngsild-tenant': TENANT };

const NGSI_LD_ERRORS = 'https://uri.etsi.org/ngsi-ld/errors/';

/**
 * Whether a route exists: a missing one answers 405 or the platform's 404, while an existing one
 * answers anything else, including its own NGSI-LD 404 or 400 for the probe's empty body.
 */
export async function hasRoute(base: string, method: string, path: string, body: string): Promise<boolean> {
  const response = await fetch(`${base}${path}`, { method, headers: JSON_HEADERS, body });
  const text = await response.text();
  if (response.status === 405) {
    return false;
  }
  if (response.status === 404) {
    return text.includes(NGSI_LD_ERRORS);
  }
  return true;
}
