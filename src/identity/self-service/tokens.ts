/**
 * The single-use tokens of mailed links: 32 random bytes, of which only the SHA-256 is stored. A
 * token is made by the mail job just before its mail is sent, so it never waits in the job queue;
 * using one marks it and every other token of the same purpose of the account used.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../platform/index.ts';

export type TokenPurpose = 'verify-email' | 'reset-password';

/** How long a link works: a day to verify an address, an hour to reset a password. */
export const TOKEN_SECONDS: Record<TokenPurpose, number> = {
  'verify-email': 24 * 60 * 60,
  'reset-password': 60 * 60,
};

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Makes a token for the account and stores its hash; returns the token, for the mail only. */
export async function issueToken(db: Queryable, accountId: string, purpose: TokenPurpose): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `insert into identity.account_tokens (token_hash, account_id, purpose, expires_at)
     values ($1, $2, $3, now() + make_interval(secs => $4::int))`,
    [hashOf(token), accountId, purpose, TOKEN_SECONDS[purpose]],
  );
  return token;
}

/** Forgets a token whose mail could not be sent. */
export async function discardToken(db: Queryable, token: string): Promise<void> {
  await db.query('delete from identity.account_tokens where token_hash = $1', [hashOf(token)]);
}

/** Whether the token is one of this purpose that is neither used nor expired (it stays usable). */
export async function tokenUsable(db: Queryable, token: unknown, purpose: TokenPurpose): Promise<boolean> {
  if (typeof token !== 'string' || !TOKEN.test(token)) return false;
  const { rows } = await db.query(
    `select 1 from identity.account_tokens
      where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()`,
    [hashOf(token), purpose],
  );
  return rows.length > 0;
}

/**
 * Uses the token: returns its account, or undefined when it is unknown, used or expired. The check
 * and the marking are one statement, so two requests with the same token cannot both succeed.
 * Pass the transaction of what the token allows, so a failure there leaves the token unused.
 */
export async function useToken(
  db: Queryable,
  token: unknown,
  purpose: TokenPurpose,
): Promise<string | undefined> {
  if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
  const { rows } = await db.query<{ account_id: string }>(
    `update identity.account_tokens set used_at = now()
      where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
      returning account_id`,
    [hashOf(token), purpose],
  );
  const accountId = rows[0]?.account_id;
  if (accountId) {
    // The other links of the same kind (a resent mail, say) die with it.
    await db.query(
      `update identity.account_tokens set used_at = now()
        where account_id = $1 and purpose = $2 and used_at is null`,
      [accountId, purpose],
    );
  }
  return accountId;
}

/** Deletes tokens a day past their expiry, used or not; returns how many. */
export async function sweepAccountTokens(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `delete from identity.account_tokens where expires_at < now() - interval '1 day'`,
  );
  return rowCount;
}
