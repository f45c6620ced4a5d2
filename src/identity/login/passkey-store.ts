/**
 * The SQL of passkeys: residents' public keys with their signature counters, and one-time WebAuthn
 * challenges shared by every API process. A challenge is consumed, and a counter moved forward, by
 * the very statement that checks it, so two concurrent requests cannot both pass.
 */
import type { Queryable } from '../../platform/index.ts';

export type ChallengePurpose = 'login' | 'register';

export interface ChallengeKey {
  challenge: string;
  purpose: ChallengePurpose;
  /** The interaction the options were fetched in. */
  uid: string;
  /** The account registering (registration only). */
  accountId?: string;
}

export interface StoredPasskey {
  id: string;
  accountId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
}

export interface NewPasskey {
  credentialId: string;
  accountId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  backedUp: boolean;
  name: string;
}

export async function insertChallenge(db: Queryable, key: ChallengeKey, seconds: number): Promise<void> {
  await db.query(
    `insert into identity.passkey_challenges (challenge, purpose, interaction_uid, account_id, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision))`,
    [key.challenge, key.purpose, key.uid, key.accountId ?? null, seconds],
  );
}

/** Consumes a live challenge issued for exactly this purpose, interaction and account. */
export async function takeChallenge(db: Queryable, key: ChallengeKey): Promise<boolean> {
  const { rows } = await db.query(
    `update identity.passkey_challenges set consumed_at = now()
      where challenge = $1 and purpose = $2 and interaction_uid = $3
        and account_id is not distinct from $4::uuid and consumed_at is null and expires_at > now()
     returning challenge`,
    [key.challenge, key.purpose, key.uid, key.accountId ?? null],
  );
  return rows.length === 1;
}

/**
 * Deletes challenges that expired more than `keepSeconds` ago; kept that long, a late replay is
 * still told apart in the logs from a forgery. Returns how many were deleted.
 */
export async function sweepPasskeyChallenges(
  db: Queryable,
  options: { keepSeconds?: number } = {},
): Promise<number> {
  const { rowCount } = await db.query(
    'delete from identity.passkey_challenges where expires_at < now() - make_interval(secs => $1::double precision)',
    [options.keepSeconds ?? 3600],
  );
  return rowCount;
}

export async function findPasskey(db: Queryable, credentialId: string): Promise<StoredPasskey | undefined> {
  const { rows } = await db.query<{
    id: string;
    account_id: string;
    public_key: Uint8Array;
    counter: string | number | bigint;
    transports: string[];
  }>(
    'select id, account_id, public_key, counter, transports from identity.passkeys where credential_id = $1',
    [credentialId],
  );
  const row = rows[0];
  return row
    ? {
        id: row.id,
        accountId: row.account_id,
        publicKey: new Uint8Array(row.public_key),
        counter: Number(row.counter),
        transports: row.transports,
      }
    : undefined;
}

/**
 * Records a use with the authenticator's new counter, only if it grew (or both are 0: synced
 * passkeys do not count). False when another assertion with this counter got there first.
 */
export async function recordPasskeyUse(db: Queryable, id: string, counter: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `update identity.passkeys set counter = $2, last_used_at = now()
      where id = $1 and (counter < $2 or ($2 = 0 and counter = 0))`,
    [id, counter],
  );
  return rowCount === 1;
}

/** Stores a passkey; returns its id, or undefined when the credential is registered already. */
export async function insertPasskey(db: Queryable, passkey: NewPasskey): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `insert into identity.passkeys (credential_id, account_id, public_key, counter, transports, backed_up, name)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (credential_id) do nothing
     returning id`,
    [
      passkey.credentialId,
      passkey.accountId,
      Buffer.from(passkey.publicKey),
      passkey.counter,
      passkey.transports,
      passkey.backedUp,
      passkey.name,
    ],
  );
  return rows[0]?.id;
}

/** Whether this is a resident without a passkey, to whom registering one is offered. */
export async function mayOfferPasskey(db: Queryable, accountId: string): Promise<boolean> {
  const { rows } = await db.query<{ offer: boolean }>(
    `select a.kind = 'resident'
            and not exists (select 1 from identity.passkeys p where p.account_id = a.id) as offer
       from identity.accounts a where a.id = $1`,
    [accountId],
  );
  return rows[0]?.offer === true;
}

/** What registration options show of the account, and the credentials it has already. */
export async function registeringAccount(
  db: Queryable,
  accountId: string,
): Promise<{ email: string | null; displayName: string; credentialIds: string[] } | undefined> {
  const { rows } = await db.query<{ email: string | null; display_name: string; existing: string[] }>(
    `select a.email, a.display_name,
            coalesce((select array_agg(p.credential_id) from identity.passkeys p where p.account_id = a.id),
                     '{}') as existing
       from identity.accounts a where a.id = $1`,
    [accountId],
  );
  const row = rows[0];
  return row ? { email: row.email, displayName: row.display_name, credentialIds: row.existing } : undefined;
}

/** A passkey as its owner sees it when managing their passkeys. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** A synced passkey, which the resident's other devices can use too. */
  backedUp: boolean;
}

/** The account's passkeys, newest first. */
export async function listPasskeys(db: Queryable, accountId: string): Promise<PasskeySummary[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    created_at: Date;
    last_used_at: Date | null;
    backed_up: boolean;
  }>(
    `select id, name, created_at, last_used_at, backed_up from identity.passkeys
      where account_id = $1 order by created_at desc, id`,
    [accountId],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: new Date(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
    backedUp: r.backed_up,
  }));
}

/**
 * Deletes the passkey if, and only if, it belongs to the account; returns its name, or undefined
 * when the account has no such passkey (another account's included, or a malformed id).
 */
export async function deletePasskey(
  db: Queryable,
  accountId: string,
  id: string,
): Promise<{ name: string } | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const { rows } = await db.query<{ name: string }>(
    'delete from identity.passkeys where id = $1 and account_id = $2 returning name',
    [id, accountId],
  );
  return rows[0];
}
