/**
 * Envelope encryption of a tenant's most sensitive values at rest (要配慮個人情報 in the broker).
 * Each tenant has one random data key (AES-256-GCM), stored in platform.data_keys only wrapped
 * (sealed with AES-256-GCM) by a master key of the configuration: the first of
 * MACHI_DATA_MASTER_KEYS, else the key derived from MACHI_SECRET_KEY. A master key is named by its
 * fingerprint (`mk-…`), so a row says which key wrapped it; rotating a master key rewraps the data
 * keys and leaves the data as it is. Unwrapped data keys stay in this process's memory only.
 * Sealed value: `e1.<data key id>.<base64url(iv ‖ tag ‖ ciphertext)>`, bound to a context string
 * (authenticated, not stored) so that a value copied elsewhere does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { afterCommit, type Db, type Queryable } from './db.ts';
import type { SecretBox } from './secret-box.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'e1.';
/** The id of the data key every tenant gets; another id would mean a new data key, for new data. */
const DATA_KEY_ID = 1;

/** A key cannot open a value or a data key: another key sealed it, it was altered, or it is missing. */
export class EnvelopeError extends Error {}

function gcmSeal(key: Buffer, plaintext: Buffer, context: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** @throws EnvelopeError when the key or the context is not the one it was sealed with */
function gcmOpen(key: Buffer, sealed: Buffer, context: string, what: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) {
    throw new EnvelopeError(`${what} is truncated`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new EnvelopeError(`${what} does not open with its key: another key sealed it, or it was altered`);
  }
}

/** A master key's name: a fingerprint that tells keys apart without revealing them. */
export function masterKeyId(key: Buffer): string {
  return `mk-${createHmac('sha256', key).update('machi:master-key-id').digest('hex').slice(0, 16)}`;
}

/** The deployment's master keys, by id; the first one wraps, every one unwraps. */
export class MasterKeys {
  readonly #keys = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(keys: readonly Buffer[]) {
    for (const key of keys) {
      if (key.length !== KEY_BYTES) throw new Error('a master key must be 32 bytes');
      if (!this.#keys.has(masterKeyId(key))) this.#keys.set(masterKeyId(key), Buffer.from(key));
    }
    const [first] = this.#keys.keys();
    if (!first) throw new Error('at least one master key is needed');
    this.currentId = first;
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  wrap(dataKey: Buffer, context: string): { masterKeyId: string; wrapped: string } {
    const key = this.#keys.get(this.currentId) as Buffer;
    return { masterKeyId: this.currentId, wrapped: gcmSeal(key, dataKey, context).toString('base64url') };
  }

  /** @throws EnvelopeError naming the master key when it is not configured or does not open it */
  unwrap(id: string, wrapped: string, context: string): Buffer {
    const key = this.#keys.get(id);
    if (!key) {
      throw new EnvelopeError(
        `a data key is wrapped by master key ${id}, which is not configured (MACHI_DATA_MASTER_KEYS, MACHI_SECRET_KEY)`,
      );
    }
    return gcmOpen(key, Buffer.from(wrapped, 'base64url'), context, `the data key wrapped by ${id}`);
  }
}

/**
 * The master keys of a deployment: those of MACHI_DATA_MASTER_KEYS in order (the first wraps), then
 * the key derived from MACHI_SECRET_KEY, which wraps when no other is given and otherwise still
 * opens the data keys it wrapped before a rotation.
 */
export function deploymentMasterKeys(
  config: { dataMasterKeys: readonly Buffer[] },
  box: SecretBox,
): MasterKeys {
  return new MasterKeys([...config.dataMasterKeys, box.derive('platform.data-keys')]);
}

/** One tenant's data key, unwrapped. */
export class DataKey {
  readonly #id: number;
  readonly #key: Buffer;

  constructor(id: number, key: Buffer) {
    this.#id = id;
    this.#key = key;
  }

  /** Seals `plaintext` for `context` (what it is and where it belongs, e.g. the entity and attribute). */
  seal(plaintext: string, context: string): string {
    return `${PREFIX}${this.#id}.${gcmSeal(this.#key, Buffer.from(plaintext), context).toString('base64url')}`;
  }

  /** @throws EnvelopeError when it was not sealed with this key for this context */
  open(sealed: string, context: string): string {
    const match = /^e1\.(\d+)\.([A-Za-z0-9_-]+)$/.exec(sealed);
    if (!match) throw new EnvelopeError('not a sealed value');
    if (Number(match[1]) !== this.#id) {
      throw new EnvelopeError(`the value is sealed with data key ${match[1]}, not ${this.#id}`);
    }
    return gcmOpen(
      this.#key,
      Buffer.from(match[2] as string, 'base64url'),
      context,
      'a sealed value',
    ).toString('utf8');
  }
}

/** Whether a stored string is a value `DataKey.seal` made. */
export const isSealedValue = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith(PREFIX);

interface DataKeyRow {
  id: number;
  wrapped: string;
  master_key_id: string;
}

const wrapContext = (tenant: string, id: number) => `machi:data-key:${tenant}:${id}`;

/** Every tenant's data key, unwrapped on first use and kept in this process's memory. */
export class DataKeys {
  readonly #masters: MasterKeys;
  readonly #keys = new Map<string, DataKey>();
  /** Keys made in a transaction not yet committed, by transaction and tenant. */
  readonly #made = new WeakMap<Queryable, Map<string, DataKey>>();

  constructor(masters: MasterKeys) {
    this.#masters = masters;
  }

  /**
   * The tenant's data key, made on first use. `tx` is a transaction of the tenant (db.withTenant); a
   * key made in it is kept in memory only once it has committed, so that no process seals with a key
   * whose row was rolled back.
   */
  async forTenant(tx: Queryable, tenant: string): Promise<DataKey> {
    const known = this.#keys.get(tenant) ?? this.#made.get(tx)?.get(tenant);
    if (known) return known;
    let row = await selectDataKey(tx, tenant);
    let made = false;
    if (!row) {
      const { masterKeyId, wrapped } = this.#masters.wrap(
        randomBytes(KEY_BYTES),
        wrapContext(tenant, DATA_KEY_ID),
      );
      const { rows } = await tx.query<DataKeyRow>(
        `insert into platform.data_keys (tenant_id, id, wrapped, master_key_id) values ($1, $2, $3, $4)
         on conflict (tenant_id, id) do nothing returning id, wrapped, master_key_id`,
        [tenant, DATA_KEY_ID, wrapped, masterKeyId],
      );
      made = rows.length > 0;
      // Another process made it meanwhile: use theirs.
      row = rows[0] ?? (await selectDataKey(tx, tenant));
      if (!row) throw new EnvelopeError(`the data key of tenant ${tenant} could not be stored`);
    }
    const key = new DataKey(row.id, this.#unwrap(tenant, row));
    if (made) {
      const pending = this.#made.get(tx) ?? new Map<string, DataKey>();
      this.#made.set(tx, pending.set(tenant, key));
      afterCommit(tx, () => this.#keys.set(tenant, key));
    } else {
      this.#keys.set(tenant, key);
    }
    return key;
  }

  /**
   * At start: every stored data key must be wrapped by a configured master key, or the process
   * stops here, naming the missing key, rather than fail on the first sensitive read.
   * @throws EnvelopeError
   */
  async check(db: Db): Promise<void> {
    // Key ids only, read as the schema owner across tenants: no key material.
    const { rows } = await db.query<{ master_key_id: string; tenants: number }>(
      'select master_key_id, count(distinct tenant_id)::int as tenants from platform.data_keys group by master_key_id',
    );
    const missing = rows.filter((r) => !this.#masters.ids.includes(r.master_key_id));
    if (missing.length > 0) {
      throw new EnvelopeError(
        `the data keys of ${missing.map((r) => `${r.tenants} tenant(s) are wrapped by master key ${r.master_key_id}`).join(', ')}, which is not configured; start with the master key they were wrapped by (MACHI_DATA_MASTER_KEYS, or the MACHI_SECRET_KEY they were made with). Configured: ${this.#masters.ids.join(', ')}`,
      );
    }
  }

  /** Rewraps with the current master key every data key another one wrapped; returns how many. */
  async rewrap(db: Db): Promise<number> {
    const current = this.#masters.currentId;
    const { rows: tenants } = await db.query<{ tenant_id: string }>(
      'select distinct tenant_id from platform.data_keys where master_key_id <> $1 order by tenant_id',
      [current],
    );
    let count = 0;
    for (const { tenant_id: tenant } of tenants) {
      count += await db.withTenant(tenant, async (tx) => {
        const { rows } = await tx.query<DataKeyRow>(
          'select id, wrapped, master_key_id from platform.data_keys where master_key_id <> $1 for update',
          [current],
        );
        for (const row of rows) {
          const context = wrapContext(tenant, row.id);
          const { wrapped } = this.#masters.wrap(
            this.#masters.unwrap(row.master_key_id, row.wrapped, context),
            context,
          );
          await tx.query(
            `update platform.data_keys set wrapped = $1, master_key_id = $2, wrapped_at = now()
              where tenant_id = $3 and id = $4`,
            [wrapped, current, tenant, row.id],
          );
        }
        return rows.length;
      });
    }
    return count;
  }

  #unwrap(tenant: string, row: DataKeyRow): Buffer {
    try {
      return this.#masters.unwrap(row.master_key_id, row.wrapped, wrapContext(tenant, row.id));
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      throw new EnvelopeError(`the data key of tenant ${tenant} cannot be opened: ${error.message}`);
    }
  }
}

async function selectDataKey(tx: Queryable, tenant: string): Promise<DataKeyRow | undefined> {
  const { rows } = await tx.query<DataKeyRow>(
    'select id, wrapped, master_key_id from platform.data_keys where tenant_id = $1 and id = $2',
    [tenant, DATA_KEY_ID],
  );
  return rows[0];
}

/**
 * The deployment's data keys, checked (every stored one opens with the configured master keys) and
 * rewrapped with the current master key where another wrapped them: what an API process does at start.
 * @throws EnvelopeError when a data key's master key is not configured
 */
export async function openDataKeys(db: Db, masters: MasterKeys): Promise<DataKeys> {
  const keys = new DataKeys(masters);
  await keys.check(db);
  await keys.rewrap(db);
  return keys;
}
