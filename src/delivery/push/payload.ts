/**
 * What the service worker receives: the notification as JSON, small enough for every push service.
 * RFC 8291 leaves 3,993 bytes of plaintext in a 4,096-byte message; the body is shortened to fit
 * (the inbox keeps it whole), the title and link never are.
 */
import type { Notification } from '../inbox/store.ts';

/** Under the 3,993 bytes RFC 8291 allows, with room for a push service that counts more strictly. */
export const MAX_PAYLOAD_BYTES = 3_800;

export interface PushPayload {
  /** The inbox item's id, to mark it read when the notification is opened; absent for a test. */
  id?: string;
  kind: string;
  /** The municipality that sent it (全国地方公共団体コード). */
  municipality?: string;
  title: string;
  body: string;
  url?: string;
  /** Set when the body was shortened to fit. */
  truncated?: true;
}

const bytes = (payload: PushPayload) => Buffer.byteLength(JSON.stringify(payload));

/** The payload, with the body cut (at a character, with an ellipsis) until it fits. */
export function fitted(payload: PushPayload): string {
  if (bytes(payload) <= MAX_PAYLOAD_BYTES) return JSON.stringify(payload);
  const chars = [...payload.body];
  let low = 0;
  let high = chars.length;
  // The longest prefix that fits, found by halving.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const trial = { ...payload, body: `${chars.slice(0, mid).join('')}…`, truncated: true as const };
    if (bytes(trial) <= MAX_PAYLOAD_BYTES) low = mid;
    else high = mid - 1;
  }
  return JSON.stringify({ ...payload, body: `${chars.slice(0, low).join('')}…`, truncated: true });
}

export function notificationPayload(n: Notification): string {
  return fitted({
    id: n.id,
    kind: n.kind,
    municipality: n.tenant,
    title: n.title,
    body: n.body,
    ...(n.url ? { url: n.url } : {}),
  });
}

const TEST_TEXT = {
  ja: { title: 'テスト通知', body: 'この端末に Machi からのお知らせが届きます。' },
  en: { title: 'Test notification', body: 'This device will receive notifications from Machi.' },
} as const;

export function testPayload(lang: 'ja' | 'en'): string {
  return fitted({ kind: 'test', ...TEST_TEXT[lang], url: '/' });
}
