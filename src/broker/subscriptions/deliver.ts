/**
 * Sends one notification to a subscription's endpoint: HTTP(S) (ETSI GS CIM 009 §6.3.15 and §5.8.6)
 * or MQTT (§7). A non-2xx answer, a timeout or a broken connection throws, so the job queue retries;
 * an endpoint the outbound policy refuses throws an error that is not retried. Only the addresses
 * the policy checked are connected to.
 */
import { isIP } from 'node:net';
import { connectAsync } from 'mqtt';
import {
  defaultPort,
  normaliseHost,
  OutboundDenied,
  type OutboundPolicy,
  type OutboundResponse,
  outboundRequest,
} from '../../platform/index.ts';
import { CORE_CONTEXT_URL } from '../context/core.ts';
import { type ContextRef, contextLink } from '../context/json-ld.ts';
import type { Endpoint } from './model.ts';

type Json = Record<string, unknown>;

/** How long one attempt may take, connection included. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface Delivery {
  endpoint: Endpoint;
  tenant: string;
  /** The context the notification's terms were compacted with (the user's part). */
  context: ContextRef[];
  notification: Json;
}

/** Why a delivery failed, in words fit for `lastErrorReason` (no response bodies: they may be large or private). */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  /** False when another attempt cannot help (a refused endpoint): the job then ends at once. */
  readonly retryable: boolean;
  constructor(message: string, retryable = true) {
    super(message);
    this.retryable = retryable;
  }
}

/** A DeliveryError for what went wrong before an answer came. */
function failure(what: string, error: unknown, timedOut = false): DeliveryError {
  if (error instanceof OutboundDenied) {
    return new DeliveryError(`the endpoint is not allowed: ${error.message}`, false);
  }
  if (timedOut) {
    return new DeliveryError(`${what}: no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`);
  }
  const { code, message } = error as { code?: string; message?: string };
  return new DeliveryError(`${what}: ${code ?? message ?? String(error)}`);
}

/** The context a JSON notification links to: one URL when the subscriber gave one, else the core context. */
function linkedContext(context: ContextRef[]): string {
  const [only] = context;
  return context.length === 1 && typeof only === 'string' ? only : CORE_CONTEXT_URL;
}

/** §6.3.15: the body, and the headers an HTTP receiver gets (an MQTT receiver gets them as metadata). */
export function envelope(delivery: Delivery): { headers: Record<string, string>; body: Json } {
  const { endpoint, context, notification, tenant } = delivery;
  const headers: Record<string, string> = {};
  for (const { key, value } of endpoint.receiverInfo) {
    headers[key] = value;
  }
  // Set after receiverInfo so a subscriber cannot make a notification claim another tenant.
  headers['Content-Type'] = endpoint.accept;
  headers['NGSILD-Tenant'] = tenant;
  if (endpoint.accept === 'application/ld+json') {
    const bodyContext = context.length ? [...context, CORE_CONTEXT_URL] : CORE_CONTEXT_URL;
    return { headers, body: { '@context': bodyContext, ...notification } };
  }
  headers.Link = contextLink(linkedContext(context));
  return { headers, body: notification };
}

export async function deliver(
  delivery: Delivery,
  outbound: OutboundPolicy,
  signal: AbortSignal,
): Promise<void> {
  const scheme = new URL(delivery.endpoint.uri).protocol;
  if (scheme === 'mqtt:' || scheme === 'mqtts:') {
    await deliverMqtt(delivery, outbound);
  } else {
    await deliverHttp(delivery, outbound, signal);
  }
}

/** POST, without following redirects: a redirect would resend the notification somewhere the subscriber did not name. */
async function deliverHttp(delivery: Delivery, outbound: OutboundPolicy, signal: AbortSignal): Promise<void> {
  const { headers, body } = envelope(delivery);
  const timeout = AbortSignal.timeout(DELIVERY_TIMEOUT_MS);
  let response: OutboundResponse;
  try {
    response = await outboundRequest(outbound, delivery.endpoint.uri, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    throw failure('could not reach the endpoint', error, timeout.aborted);
  }
  response.body.destroy();
  if (response.status < 200 || response.status > 299) {
    throw new DeliveryError(`the endpoint answered ${response.status}`);
  }
}

/** §7.2 notifierInfo: MQTT-Version (mqtt3.1.1 | mqtt5.0) and MQTT-QoS (0 | 1 | 2). */
function mqttOptions(endpoint: Endpoint): { protocolVersion: 4 | 5; qos: 0 | 1 | 2 } {
  const info = new Map(endpoint.notifierInfo.map((kv) => [kv.key, kv.value]));
  return {
    protocolVersion: info.get('MQTT-Version') === 'mqtt5.0' ? 5 : 4,
    qos: Number(info.get('MQTT-QoS') ?? 0) as 0 | 1 | 2,
  };
}

/**
 * §7.2: the message is `{"metadata": {…headers}, "body": notification}` on the topic of the URI's
 * path. One connection per delivery: notifications are rare next to the cost of a stale cached
 * connection, and nothing then has to be closed when the worker stops. The connection goes to the
 * address the policy checked; TLS verifies the broker's certificate against the URI's host name.
 */
async function deliverMqtt(delivery: Delivery, outbound: OutboundPolicy): Promise<void> {
  const url = new URL(delivery.endpoint.uri);
  const secure = url.protocol === 'mqtts:';
  const port = Number(url.port) || defaultPort(url.protocol);
  const topic = decodeURIComponent(url.pathname.slice(1));
  const { protocolVersion, qos } = mqttOptions(delivery.endpoint);
  const { headers, body } = envelope(delivery);
  let client: Awaited<ReturnType<typeof connectAsync>> | undefined;
  try {
    const [address] = await outbound.resolve(url.hostname, port);
    const host = normaliseHost(url.hostname);
    client = await connectAsync({
      protocol: secure ? 'mqtts' : 'mqtt',
      host: address?.address,
      port,
      ...(secure && !isIP(host) ? { servername: host } : {}),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      protocolVersion,
      connectTimeout: DELIVERY_TIMEOUT_MS,
      reconnectPeriod: 0,
    });
    const published = client.publishAsync(topic, JSON.stringify({ metadata: headers, body }), { qos });
    await Promise.race([
      published,
      timeout(DELIVERY_TIMEOUT_MS, 'the MQTT broker did not acknowledge in time'),
    ]);
  } catch (error) {
    throw error instanceof OutboundDenied
      ? failure('MQTT delivery failed', error)
      : new DeliveryError(`MQTT delivery failed: ${(error as Error).message}`);
  } finally {
    await client?.endAsync().catch(() => {});
  }
}

function timeout(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
