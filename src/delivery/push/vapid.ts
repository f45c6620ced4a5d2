/**
 * The deployment's VAPID key pair (RFC 8292): made by the first process that needs it, stored with
 * the private key sealed, and read by every other process, so API processes hand browsers the key
 * that workers sign with. Never rotated: browsers bind their subscriptions to the public key.
 */
import webpush from 'web-push';
import type { Db, SecretBox } from '../../platform/index.ts';

const PURPOSE = 'delivery.vapid-private-key';

export interface VapidKeys {
  /** The application server key browsers subscribe with: an uncompressed P-256 point, base64url. */
  publicKey: string;
  /** The 32-byte private scalar, base64url. */
  privateKey: string;
}

async function readKeys(db: Db, box: SecretBox): Promise<VapidKeys | undefined> {
  const { rows } = await db.query<{ public_key: string; private_key_sealed: string }>(
    'select public_key, private_key_sealed from delivery.vapid_keys',
  );
  const row = rows[0];
  return row && { publicKey: row.public_key, privateKey: box.openText(row.private_key_sealed, PURPOSE) };
}

/** The stored key pair, made first when there is none; processes racing to make it all get one pair. */
export async function ensureVapidKeys(db: Db, box: SecretBox): Promise<VapidKeys> {
  const stored = await readKeys(db, box);
  if (stored) return stored;
  const made = webpush.generateVAPIDKeys();
  await db.query(
    `insert into delivery.vapid_keys (public_key, private_key_sealed) values ($1, $2)
     on conflict (one) do nothing`,
    [made.publicKey, box.seal(made.privateKey, PURPOSE)],
  );
  const kept = await readKeys(db, box);
  if (!kept) throw new Error('the VAPID key pair was neither stored nor found');
  return kept;
}

/** `ensureVapidKeys` once per process: the pair never changes, so later calls need no query. */
export function vapidKeysOnce(db: Db, box: SecretBox): () => Promise<VapidKeys> {
  let loading: Promise<VapidKeys> | undefined;
  return () => {
    loading ??= ensureVapidKeys(db, box).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/**
 * Whom push services may contact about our pushes (RFC 8292 §2.1 `sub`): VAPID_SUBJECT, else the
 * public URL when it is https, else a mailto: address at its host (push services refuse http URLs).
 */
export function vapidSubject(config: { publicUrl: string; vapidSubject?: string | undefined }): string {
  if (config.vapidSubject) return config.vapidSubject;
  const url = new URL(config.publicUrl);
  return url.protocol === 'https:' ? url.origin : `mailto:webpush@${url.hostname}`;
}
