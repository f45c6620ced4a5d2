/**
 * oidc-provider's storage in PostgreSQL (identity.oidc_models), so every API process sees the same
 * sessions, grants, codes and tokens, and a restart loses none. The library makes one adapter per
 * model name. Clients are not stored here: the `Client` model reads identity.clients (clients.ts),
 * where staff register them.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db, SecretBox } from '../../platform/index.ts';
import { findClientMetadata } from './clients.ts';

/** Models whose rows the library looks up by grant (revokeByGrantId removes them all at once). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

function present(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  return row.consumed_at
    ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
    : row.payload;
}

export class PostgresAdapter implements Adapter {
  readonly #db: Db;
  readonly #model: string;

  constructor(db: Db, model: string) {
    this.#db = db;
    this.#model = model;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    await this.#db.query(
      `insert into identity.oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
       values ($1, $2, $3, $4, $5, $6, case when $7::int > 0 then now() + make_interval(secs => $7::int) end)
       on conflict (model, id) do update
         set payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
             user_code = excluded.user_code, expires_at = excluded.expires_at`,
      [
        this.#model,
        id,
        JSON.stringify(payload),
        GRANTABLE.has(this.#model) ? (payload.grantId ?? null) : null,
        payload.uid ?? null,
        payload.userCode ?? null,
        expiresIn ?? 0,
      ],
    );
  }

  async #findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#db.query<Row>(
      `select payload, consumed_at from identity.oidc_models
        where model = $1 and ${column} = $2 and (expires_at is null or expires_at > now())`,
      [this.#model, value],
    );
    return present(rows[0]);
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere('id', id);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere('uid', uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere('user_code', userCode);
  }

  async consume(id: string): Promise<void> {
    await this.#db.query(
      'update identity.oidc_models set consumed_at = now() where model = $1 and id = $2 and consumed_at is null',
      [this.#model, id],
    );
  }

  async destroy(id: string): Promise<void> {
    await this.#db.query('delete from identity.oidc_models where model = $1 and id = $2', [this.#model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#db.query('delete from identity.oidc_models where grant_id = $1', [grantId]);
  }
}

/** The Client model: read-only, from the clients staff registered (disabled ones are unknown). */
export class ClientAdapter implements Adapter {
  readonly #db: Db;
  readonly #box: SecretBox;
  constructor(db: Db, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await findClientMetadata(this.#db, this.#box, id)) as AdapterPayload | undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('clients are registered by staff, not through the provider');
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

/** Deletes expired rows (already invisible to `find`). */
export async function sweepOidcModels(db: Db): Promise<number> {
  const { rowCount } = await db.query('delete from identity.oidc_models where expires_at < now()');
  return rowCount;
}
