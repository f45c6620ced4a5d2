/**
 * Secrets at rest (signing keys, TOTP seeds, upstream client secrets): sealed with AES-256-GCM
 * under a key derived (HKDF-SHA-256) from the deployment's master key for each purpose, so a value
 * sealed for one purpose cannot be opened as another, and a database dump alone reveals nothing.
 * Sealed form: `v1.<base64url(iv ‖ tag ‖ ciphertext)>`.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'v1.';

/** The master key could not open a value: another key sealed it, or it was altered. */
export class SecretBoxError extends Error {}

export class SecretBox {
  readonly #master: Buffer;
  readonly #keys = new Map<string, Buffer>();

  /** @param masterKey 32 random bytes (MACHI_SECRET_KEY) */
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) {
      throw new Error('the master key must be 32 bytes');
    }
    this.#master = Buffer.from(masterKey);
  }

  #key(purpose: string): Buffer {
    let key = this.#keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), `machi:${purpose}`, 32));
      this.#keys.set(purpose, key);
    }
    return key;
  }

  /** A 32-byte key for `purpose` (HMAC keys, cookie keys), stable for the master key, never stored. */
  derive(purpose: string): Buffer {
    return Buffer.from(this.#key(`derived:${purpose}`));
  }

  /** Seals `plaintext` for `purpose` (e.g. 'identity.signing-key'); the purpose is also authenticated. */
  seal(plaintext: string | Buffer, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(purpose), iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Opens a value sealed for `purpose`. @throws SecretBoxError when it cannot */
  open(sealed: string, purpose: string): Buffer {
    if (!sealed.startsWith(PREFIX)) {
      throw new SecretBoxError('not a sealed value');
    }
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new SecretBoxError('the sealed value is truncated');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key(purpose), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SecretBoxError('the value was sealed with another key or for another purpose, or altered');
    }
  }

  openText(sealed: string, purpose: string): string {
    return this.open(sealed, purpose).toString('utf8');
  }
}

/** Parses MACHI_SECRET_KEY: 32 bytes as base64 / base64url (44 or 43 characters) or 64 hex digits. */
export function parseMasterKey(raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url');
  if (key.length !== 32) {
    throw new Error('must be 32 random bytes, base64 or hex (openssl rand -base64 32)');
  }
  return key;
}

/**
 * The deployment's secret box: MACHI_SECRET_KEY, or with the embedded database a key kept in
 * DATA_DIR/secret.key (made on first start, readable by its owner only).
 */
export async function openSecretBox(config: {
  secretKey: Buffer | undefined;
  dataDir: string;
}): Promise<SecretBox> {
  if (config.secretKey) {
    return new SecretBox(config.secretKey);
  }
  const file = path.join(config.dataDir, 'secret.key');
  await mkdir(config.dataDir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return new SecretBox(parseMasterKey(await readFile(file, 'utf8')));
}
