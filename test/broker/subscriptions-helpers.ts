/**
 * For the subscription tests: a notification receiver on 127.0.0.1 that records what it is sent and
 * answers as told, a job worker running the broker's handlers, and a helper to wait for a condition.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brokerJobHandlers, loadBrokerConfig } from '../../src/broker/index.ts';
import { type Db, OutboundPolicy, Worker } from '../../src/platform/index.ts';
import { testConfig } from '../helpers/db.ts';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { data: Record<string, unknown>[] };
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Notifications received on one path. */
  on(path: string): Received[];
  /** Status codes to answer on a path, in turn; the last one repeats (default 200). */
  answer(path: string, statuses: number[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const plans = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const plan = plans.get(path) ?? [200];
      const status = plan.length > 1 ? (plan.shift() as number) : (plan[0] as number);
      if (status >= 200 && status < 300) {
        received.push({
          path,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    on: (path) => received.filter((r) => r.path === path),
    answer: (path, statuses) => plans.set(path, [...statuses]),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A worker for the broker's jobs that polls often and backs off briefly, so tests run fast; it may
 * call 127.0.0.1 (testConfig) unless given another outbound policy.
 */
export function startWorker(db: Db, outbound = new OutboundPolicy(testConfig())): Worker {
  const worker = new Worker(db, {
    handlers: brokerJobHandlers(db, loadBrokerConfig({ MACHI_AUTH: 'off' }), { outbound }),
    pollIntervalMs: 20,
    backoffBaseSeconds: 0.05,
  });
  worker.start();
  return worker;
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 8000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A subscription body to the receiver's path, with the given members. */
export function subscription(receiver: Receiver, path: string, members: Record<string, unknown> = {}) {
  const { notification, ...rest } = members;
  return {
    type: 'Subscription',
    entities: [{ type: 'Shelter' }],
    ...rest,
    notification: {
      ...(notification as Record<string, unknown> | undefined),
      endpoint: {
        uri: `${receiver.url}${path}`,
        ...(notification as { endpoint?: object } | undefined)?.endpoint,
      },
    },
  };
}
