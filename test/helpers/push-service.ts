/**
 * A Web Push service on 127.0.0.1 that speaks the real protocol, for tests. It hands out
 * subscriptions the way a browser's push manager makes them (a P-256 key pair and a 16-byte auth
 * secret of the "browser", an endpoint of the service), accepts pushes per RFC 8030, checks the
 * VAPID authorisation per RFC 8292 (ES256 signature under the key in `k`, `aud` the endpoint's
 * origin, `exp` within 24 hours, a `sub`, and `k` the application server key the subscription was
 * made with), decrypts the aes128gcm payload per RFC 8291 and RFC 8188 with the subscription's own
 * private key, and records what arrived. It can be told to answer 404, 410, 429 or 500 instead.
 * Written from the RFCs with node:crypto alone, so it checks web-push rather than trusting it.
 */
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BrowserSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  /** The subscription's id (the endpoint's last segment). */
  subscription: string;
  /** The decrypted payload. */
  text: string;
  ttl: number;
  urgency: string | undefined;
  /** The VAPID JWT's claims, after its signature was verified. */
  claims: { aud: string; exp: number; sub: string };
  /** The application server key from the Authorization header (`k`). */
  key: string;
}

interface Held {
  ecdh: ECDH;
  auth: Buffer;
  /** The application server key given at subscribe time, which every push must be signed with. */
  serverKey: string | undefined;
  /** Answers to give instead of 201, one per push, in order; `gone` answers 410 for good. */
  answers: number[];
  gone: boolean;
}

const b64u = (b: Buffer) => b.toString('base64url');

/** The claims of a valid VAPID JWT signed with `k`, or a reason it is not one. */
function checkVapid(
  header: string | undefined,
  origin: string,
): { claims: ReceivedPush['claims']; key: string } | string {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) return 'no vapid authorization';
  const [, token = '', key = ''] = match;
  const [h = '', p = '', s = ''] = token.split('.');
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (head.alg !== 'ES256') return `alg ${head.alg}`;
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) return 'k is not an uncompressed P-256 point';
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) },
    format: 'jwk',
  });
  const signed = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!signed) return 'bad signature';
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as ReceivedPush['claims'];
  const now = Date.now() / 1000;
  if (claims.aud !== origin) return `aud ${claims.aud} is not ${origin}`;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) return 'exp is not within 24 hours';
  if (!/^(mailto:|https:)/.test(claims.sub ?? '')) return 'no sub';
  return { claims, key };
}

/** RFC 8291 §3.4 and RFC 8188 §2: the plaintext of an aes128gcm body for this subscription. */
export function decrypt(body: Buffer, ecdh: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  const serverPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  const shared = ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const parts: Buffer[] = [];
  for (let seq = 0, at = 0; at < records.length; seq++, at += rs) {
    const record = records.subarray(at, at + rs);
    const iv = Buffer.from(nonce);
    // The sequence number XORed into the nonce's low end (records here number far fewer than 2^32).
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // Padding: zeros after a delimiter, 2 in the last record, 1 in the others.
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = at + rs >= records.length;
    if (plain[end] !== (last ? 2 : 1)) throw new Error('bad padding delimiter');
    parts.push(plain.subarray(0, end));
  }
  return Buffer.concat(parts).toString('utf8');
}

export class PushService {
  readonly received: ReceivedPush[] = [];
  /** Pushes refused for a bad request or authorisation, with the reason. */
  readonly refused: string[] = [];
  readonly #held = new Map<string, Held>();
  readonly #server: http.Server;
  #origin = '';

  constructor() {
    this.#server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const { status, location } = this.#accept(request, Buffer.concat(chunks));
        response.writeHead(status, location ? { location } : {}).end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  get origin(): string {
    return this.#origin;
  }

  /** What `pushManager.subscribe({ applicationServerKey })` gives a page. */
  subscribe(applicationServerKey?: string): BrowserSubscription {
    const id = randomUUID();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.#held.set(id, { ecdh, auth, serverKey: applicationServerKey, answers: [], gone: false });
    return {
      endpoint: `${this.#origin}/push/${id}`,
      expirationTime: null,
      keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) },
    };
  }

  /** Answers the next pushes to this subscription with these statuses, then 201 again. */
  answer(endpoint: string, ...statuses: number[]): void {
    this.#find(endpoint).answers.push(...statuses);
  }

  /** The browser unsubscribed: every push answers 410 Gone from now on. */
  unsubscribe(endpoint: string): void {
    this.#find(endpoint).gone = true;
  }

  /** The messages delivered to one subscription, decrypted. */
  messages(endpoint: string): ReceivedPush[] {
    const id = endpoint.split('/').at(-1);
    return this.received.filter((r) => r.subscription === id);
  }

  /** Resolves once `count` messages have arrived for the endpoint. */
  async waitFor(endpoint: string, count: number, timeoutMs = 20_000): Promise<ReceivedPush[]> {
    const until = Date.now() + timeoutMs;
    while (this.messages(endpoint).length < count) {
      if (Date.now() > until) throw new Error(`${this.messages(endpoint).length} of ${count} pushes arrived`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.messages(endpoint);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #find(endpoint: string): Held {
    const held = this.#held.get(endpoint.split('/').at(-1) ?? '');
    if (!held) throw new Error('not a subscription of this push service');
    return held;
  }

  #accept(request: http.IncomingMessage, body: Buffer): { status: number; location?: string } {
    const id = /^\/push\/([0-9a-f-]{36})$/.exec(request.url ?? '')?.[1] ?? '';
    const held = this.#held.get(id);
    if (request.method !== 'POST' || !held) return { status: 404 };
    if (held.gone) return { status: 410 };
    const answer = held.answers.shift();
    if (answer) return { status: answer };
    const refuse = (status: number, reason: string) => {
      this.refused.push(reason);
      return { status };
    };
    const ttl = Number(request.headers.ttl);
    if (request.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return refuse(400, 'no TTL');
    if (request.headers['content-encoding'] !== 'aes128gcm') return refuse(415, 'not aes128gcm');
    const vapid = checkVapid(request.headers.authorization, this.#origin);
    if (typeof vapid === 'string') return refuse(401, vapid);
    if (held.serverKey && vapid.key !== held.serverKey) return refuse(403, 'k is not the subscription key');
    let text: string;
    try {
      text = decrypt(body, held.ecdh, held.auth);
    } catch (error) {
      return refuse(400, `cannot decrypt: ${(error as Error).message}`);
    }
    const urgency = request.headers.urgency;
    this.received.push({
      subscription: id,
      text,
      ttl,
      urgency: typeof urgency === 'string' ? urgency : undefined,
      claims: vapid.claims,
      key: vapid.key,
    });
    return { status: 201, location: `/message/${randomUUID()}` };
  }
}
