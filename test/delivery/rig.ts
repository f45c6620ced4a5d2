/**
 * What the delivery tests share: a Machi with its resident API on real HTTP, a worker taking push
 * jobs with fast retries, a Web Push service on 127.0.0.1, and residents logged in through the
 * portal, each with their own browser and token.
 */
import assert from 'node:assert/strict';
import { loadBrokerConfig } from '../../src/broker/index.ts';
import { jobHandlers } from '../../src/main.ts';
import { Worker } from '../../src/platform/index.ts';
import { testConfig } from '../helpers/db.ts';
import { type BrowserSubscription, PushService } from '../helpers/push-service.ts';
import { addResident, Browser, type IdentityRig, myPageToken, startIdentityRig } from '../identity/rig.ts';

export const SENDAI = '041009';
export const MIYAGI = '040002';

export type Json = Record<string, unknown>;

export interface Resident {
  id: string;
  token: string;
  /** Calls the resident's notifications API (`path` is under /api/v1/me/notifications). */
  call(path: string, init?: { method?: string; body?: unknown; token?: string }): Promise<Response>;
  /** Like `call`, asserting the status, and the JSON answer (undefined for 204). */
  json(path: string, status: number, init?: { method?: string; body?: unknown }): Promise<Json>;
}

export interface DeliveryRig {
  rig: IdentityRig;
  push: PushService;
  worker: Worker;
  resident(name?: string): Promise<Resident>;
  /** A browser's subscription to the push service made with the deployment's key, registered as a device. */
  device(who: Resident, label?: string): Promise<{ id: string; subscription: BrowserSubscription }>;
  close(): Promise<void>;
}

export async function startDeliveryRig(): Promise<DeliveryRig> {
  const rig = await startIdentityRig();
  const push = await new PushService().start();
  const config = { ...testConfig({ PUBLIC_URL: rig.baseUrl }), box: rig.box };
  const worker = new Worker(rig.testDb.db, {
    handlers: jobHandlers(rig.testDb.db, loadBrokerConfig({}), config),
    pollIntervalMs: 20,
    backoffBaseSeconds: 0.05,
  });
  worker.start();

  const resident = async (name?: string): Promise<Resident> => {
    const account = await addResident(rig, name);
    const token = await myPageToken(rig, new Browser(), account.email);
    const call: Resident['call'] = (path, init = {}) =>
      fetch(`${rig.baseUrl}/api/v1/me/notifications${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${init.token ?? token}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    return {
      id: account.id,
      token,
      call,
      async json(path, status, init) {
        const response = await call(path, init);
        const text = await response.text();
        assert.equal(response.status, status, text);
        return text ? (JSON.parse(text) as Json) : {};
      },
    };
  };

  return {
    rig,
    push,
    worker,
    resident,
    async device(who, label) {
      const { applicationServerKey } = await who.json('/push/key', 200);
      const subscription = push.subscribe(applicationServerKey as string);
      const device = await who.json('/push/devices', 201, {
        method: 'POST',
        body: { ...subscription, label },
      });
      return { id: device.id as string, subscription };
    },
    async close() {
      await worker.stop();
      await push.close();
      await rig.close();
    },
  };
}

/** Waits until `check` returns something (not undefined), polling the database or the API. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
