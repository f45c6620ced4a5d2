/**
 * (d) Notification latency: from the request that changes an entity to the webhook's receipt of
 * the notification that carries the change, through the subscription, the job queue and the worker
 * in the server's process. The receiver is an HTTP server here, on 127.0.0.1. The change is a
 * PATCH of one attribute when the broker has that route, else a batch upsert, else a creation.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BrokerBench, JSON_HEADERS } from './bench.ts';
import { ENTITY_TYPE, shelterBody } from './entity.ts';
import { fetchOk, percentile } from './load.ts';
import { type BrokerRow, latencyRow, unavailableRow } from './report.ts';

const NAME = 'broker (d) notification, change → webhook';
const TARGET_P99_MS = 50;
const WAIT_MS = 10_000;
const WARMUP = 5;

/** A webhook that resolves the waiter whose marker a notification's body contains. */
async function startReceiver() {
  const waiting = new Map<string, () => void>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(204).end();
      const body = Buffer.concat(chunks).toString('utf8');
      for (const [marker, resolve] of waiting) {
        if (body.includes(marker)) {
          waiting.delete(marker);
          resolve();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`,
    /** Resolves when a notification holding `marker` arrives; rejects after WAIT_MS. */
    expect(marker: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(marker);
          reject(new Error(`no notification within ${WAIT_MS / 1000} s`));
        }, WAIT_MS);
        waiting.set(marker, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Change = { how: string; send: (marker: string) => Promise<unknown> };

/** The request that changes the watched entity so that its `status` becomes `marker`. */
function changeMaker(bench: BrokerBench, prefix: string): Change {
  const id = `${prefix}0`;
  const status = (marker: string) => ({ status: { type: 'Property', value: marker } });
  if (bench.routes.patchAttrs) {
    return {
      how: 'PATCH /entities/{id}/attrs',
      send: (marker) =>
        fetchOk(`${bench.machi}/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, {
          method: 'PATCH',
          headers: JSON_HEADERS,
          body: JSON.stringify(status(marker)),
        }),
    };
  }
  if (bench.routes.upsert) {
    return {
      how: 'POST /entityOperations/upsert',
      send: (marker) =>
        fetchOk(`${bench.machi}/ngsi-ld/v1/entityOperations/upsert`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify([{ ...shelterBody(id), ...status(marker) }]),
        }),
    };
  }
  let n = 1;
  return {
    how: 'POST /entities',
    send: (marker) =>
      fetchOk(`${bench.machi}/ngsi-ld/v1/entities`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...shelterBody(`${prefix}${n++}`), ...status(marker) }),
      }),
  };
}

async function subscribe(
  bench: BrokerBench,
  prefix: string,
  receiver: string,
  created: boolean,
): Promise<string> {
  const response = await fetch(`${bench.machi}/ngsi-ld/v1/subscriptions`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      type: 'Subscription',
      entities: [{ type: ENTITY_TYPE, idPattern: `^${prefix}` }],
      watchedAttributes: ['status'],
      ...(created ? { notificationTrigger: ['entityCreated'] } : {}),
      notification: { attributes: ['status'], endpoint: { uri: receiver, accept: 'application/json' } },
    }),
  });
  const text = await response.text();
  const location = response.headers.get('location');
  if (response.status !== 201 || !location) {
    throw new Error(`POST /subscriptions answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return location;
}

export async function measureNotifications(bench: BrokerBench): Promise<BrokerRow[]> {
  const target = `p99 < ${TARGET_P99_MS} ms`;
  if (!bench.routes.subscriptions) {
    return [unavailableRow(NAME, 'ms', target, 'no POST /ngsi-ld/v1/subscriptions')];
  }
  const prefix = `urn:ngsi-ld:Shelter:${bench.tag}-notify-`;
  await fetchOk(`${bench.machi}/ngsi-ld/v1/entities`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(shelterBody(`${prefix}0`)),
  });
  const receiver = await startReceiver();
  const change = changeMaker(bench, prefix);
  let subscription: string | undefined;
  try {
    subscription = await subscribe(bench, prefix, receiver.url, change.how === 'POST /entities');
    bench.log(
      `  (d) ${bench.settings.notifications} notifications after ${change.how} (worker: ${bench.worker})`,
    );
    const latencies: number[] = [];
    for (let i = 0; i < WARMUP + bench.settings.notifications; i++) {
      const marker = `${bench.tag}-mark-${i}`;
      const received = receiver.expect(marker);
      const t0 = performance.now();
      await change.send(marker);
      await received;
      if (i >= WARMUP) {
        latencies.push(performance.now() - t0);
      }
    }
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    return [
      latencyRow(
        NAME,
        undefined,
        { label: `Machi, ${change.how}`, value: p99, p50Ms: p50, runs: [p99], count: latencies.length },
        TARGET_P99_MS,
        `from sending the change to the webhook's receipt; worker polls every 20 ms`,
      ),
    ];
  } catch (error) {
    const why = `${(error as Error).message} (job worker in the server: ${bench.worker ? 'yes' : 'no handlers'})`;
    return [unavailableRow(NAME, 'ms', target, why)];
  } finally {
    if (subscription) {
      await fetch(new URL(subscription, bench.machi), { method: 'DELETE', headers: JSON_HEADERS });
    }
    await receiver.close();
  }
}
