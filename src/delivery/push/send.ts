/**
 * One Web Push message to one device: web-push encrypts the payload (RFC 8291, aes128gcm) and signs
 * the VAPID JWT (RFC 8292); the request itself goes out under the outbound policy (`outboundRequest`),
 * connecting only to addresses the policy checked.
 * The answer is classified for the job: sent, gone (404/410: the subscription has ended), retryable
 * (429, 5xx, unreachable) or failed for good. Reasons never carry the endpoint or the payload.
 */
import http from 'node:http';
import webpush from 'web-push';
import { OutboundDenied, type OutboundPolicy, outboundRequest } from '../../platform/index.ts';
import type { Urgency } from '../types.ts';
import type { VapidKeys } from './vapid.ts';

/** Longer than any push service takes to answer; shorter than the job's lease. */
const TIMEOUT_MS = 15_000;

export type PushOutcome =
  | { status: 'sent'; httpStatus: number }
  | { status: 'gone'; httpStatus: number; reason: string }
  | { status: 'failed'; httpStatus?: number; reason: string; retryable: boolean };

export interface PushMessage {
  payload: string;
  /** Seconds the push service keeps the message for a device that is offline (RFC 8030 §5.2). */
  ttl: number;
  urgency: Urgency;
}

export interface PushContext {
  vapid: VapidKeys & { subject: string };
  outbound: OutboundPolicy;
  signal?: AbortSignal;
}

async function post(
  policy: OutboundPolicy,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | null,
  signal: AbortSignal,
): Promise<number> {
  const response = await outboundRequest(policy, url, {
    method: 'POST',
    headers,
    body: body ?? undefined,
    signal,
  });
  // The status is the answer. The body is drained unread (it may echo what we sent), and not
  // awaited: a push service that never ends it cannot hold the job.
  response.body.on('error', () => {});
  response.body.resume();
  return response.status;
}

/** What a push service's status means for this device. */
export function classify(status: number): PushOutcome {
  const reason = `HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  if (status >= 200 && status < 300) return { status: 'sent', httpStatus: status };
  if (status === 404 || status === 410) return { status: 'gone', httpStatus: status, reason };
  const retryable = status === 429 || status >= 500;
  return { status: 'failed', httpStatus: status, reason, retryable };
}

/** Encrypts and sends one message to one device; never throws for what the push service answers. */
export async function pushTo(
  target: { endpoint: string; p256dh: string; auth: string },
  message: PushMessage,
  context: PushContext,
): Promise<PushOutcome> {
  let details: ReturnType<typeof webpush.generateRequestDetails>;
  try {
    details = webpush.generateRequestDetails(
      { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
      message.payload,
      {
        vapidDetails: context.vapid,
        TTL: message.ttl,
        urgency: message.urgency,
        contentEncoding: 'aes128gcm',
      },
    );
  } catch {
    return { status: 'failed', reason: 'the message could not be encrypted or signed', retryable: false };
  }
  const headers = Object.fromEntries(Object.entries(details.headers).map(([k, v]) => [k, String(v)]));
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
  try {
    const status = await post(context.outbound, new URL(target.endpoint), headers, details.body, signal);
    return classify(status);
  } catch (error) {
    if (error instanceof OutboundDenied) {
      return { status: 'failed', reason: 'the outbound policy refuses this push service', retryable: false };
    }
    // The code only (ECONNREFUSED, ETIMEDOUT): a message could name the endpoint.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    return { status: 'failed', reason: `the push service could not be reached (${code})`, retryable: true };
  }
}
