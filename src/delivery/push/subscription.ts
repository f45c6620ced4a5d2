/**
 * A browser's PushSubscription, checked before it is kept: an endpoint Machi may call (https, or
 * http to this machine only where the outbound policy allows it, as in development and tests) and
 * keys that can encrypt (RFC 8291: p256dh an uncompressed P-256 point, auth 16 bytes). Each problem
 * is answered with the field it is in, so the portal can say what its browser sent wrong.
 */
import { createECDH } from 'node:crypto';
import {
  type InvalidParam,
  normaliseHost,
  OutboundDenied,
  type OutboundPolicy,
  ValidationFailed,
} from '../../platform/index.ts';

/** The subscription's JSON (`PushSubscription.toJSON()`), with the device's label. */
export interface SubscriptionInput {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
  label?: string;
}

export interface Subscription {
  endpoint: string;
  /** base64url, no padding. */
  p256dh: string;
  auth: string;
  label: string | undefined;
}

/** The body schema: shapes and sizes; what the bytes mean is checked by `parseSubscription`. */
export const subscriptionBody = {
  type: 'object',
  required: ['endpoint', 'keys'],
  properties: {
    endpoint: { type: 'string', minLength: 1, maxLength: 2048 },
    expirationTime: { type: ['number', 'null'] },
    keys: {
      type: 'object',
      required: ['p256dh', 'auth'],
      properties: {
        p256dh: { type: 'string', minLength: 1, maxLength: 200 },
        auth: { type: 'string', minLength: 1, maxLength: 100 },
      },
    },
    label: { type: 'string', maxLength: 100 },
  },
} as const;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** base64 or base64url, padded or not: browsers send base64url, some libraries standard base64. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The bytes of a base64(url) text, or undefined when it is not one. */
function bytesOf(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text.replace(/=+$/, ''), 'base64url') : undefined;
}

function endpointProblem(raw: string, outbound: OutboundPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = normaliseHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(host))) {
    return 'must be an https URL';
  }
  try {
    outbound.checkUrl(url);
  } catch (error) {
    if (error instanceof OutboundDenied) return `is not a push service Machi may call: ${error.message}`;
    throw error;
  }
  return undefined;
}

function p256dhProblem(bytes: Buffer | undefined): string | undefined {
  if (!bytes) return 'must be base64url';
  if (bytes.length !== 65 || bytes[0] !== 0x04) {
    return `must be a 65-byte uncompressed P-256 public key (got ${bytes.length} bytes)`;
  }
  try {
    // Agreeing on a secret with it fails for a point that is not on the curve.
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(bytes);
  } catch {
    return 'is not a point on the P-256 curve';
  }
  return undefined;
}

/**
 * The subscription to keep, with its keys as base64url.
 * @throws ValidationFailed naming each bad field (`body/endpoint`, `body/keys/p256dh`, `body/keys/auth`)
 */
export function parseSubscription(input: SubscriptionInput, outbound: OutboundPolicy): Subscription {
  const problems: InvalidParam[] = [];
  const endpoint = endpointProblem(input.endpoint, outbound);
  if (endpoint) problems.push({ name: 'body/endpoint', reason: endpoint });
  const p256dh = bytesOf(input.keys.p256dh);
  const key = p256dhProblem(p256dh);
  if (key) problems.push({ name: 'body/keys/p256dh', reason: key });
  const auth = bytesOf(input.keys.auth);
  if (!auth) problems.push({ name: 'body/keys/auth', reason: 'must be base64url' });
  else if (auth.length !== 16) {
    problems.push({ name: 'body/keys/auth', reason: `must be 16 bytes (got ${auth.length})` });
  }
  const [first] = problems;
  if (first) throw new ValidationFailed(`${first.name} ${first.reason}`, problems);
  const label = input.label?.trim();
  return {
    endpoint: input.endpoint,
    p256dh: (p256dh as Buffer).toString('base64url'),
    auth: (auth as Buffer).toString('base64url'),
    label: label ? label : undefined,
  };
}

/** The push service a device uses (its endpoint's origin), which the resident may see; never the endpoint. */
export function pushServiceOf(endpoint: string): string {
  return new URL(endpoint).origin;
}
