/**
 * One-time login challenges: 32 random bytes the card signs. A challenge is consumed by the very
 * statement that hands it to the verifier, so two requests with one signature cannot both pass,
 * on PGlite or on a PostgreSQL server with several processes.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../platform/index.ts';
import { JpkiError } from './errors.ts';

export interface JpkiChallenge {
  id: string;
  /** The bytes to sign, base64url. */
  challenge: string;
  expiresAt: Date;
}

export const DEFAULT_CHALLENGE_SECONDS = 300;

/** Issues a challenge that expires after `seconds` (JpkiVerifier.challengeSeconds). */
export async function issueChallenge(
  db: Queryable,
  options: { seconds?: number } = {},
): Promise<JpkiChallenge> {
  const bytes = randomBytes(32);
  const { rows } = await db.query<{ id: string; expires_at: Date }>(
    `insert into identity.jpki_challenges (challenge, expires_at)
     values ($1, now() + make_interval(secs => $2::double precision))
     returning id, expires_at`,
    [bytes, options.seconds ?? DEFAULT_CHALLENGE_SECONDS],
  );
  const row = rows[0] as { id: string; expires_at: Date };
  return { id: row.id, challenge: bytes.toString('base64url'), expiresAt: new Date(row.expires_at) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isChallengeId(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

/**
 * Consumes a challenge and returns its bytes.
 * @throws JpkiError challenge-unknown, challenge-expired or challenge-used
 */
export async function consumeChallenge(db: Queryable, id: string): Promise<Buffer> {
  // `found` sees the row as it was; `taken` re-checks it under the row lock, so of two
  // concurrent consumers exactly one gets the bytes.
  const { rows } = await db.query<{ expired: boolean; used: boolean; challenge: Uint8Array | null }>(
    `with found as (
       select expires_at, consumed_at from identity.jpki_challenges where id = $1
     ), taken as (
       update identity.jpki_challenges c set consumed_at = now()
        where c.id = $1 and c.consumed_at is null and c.expires_at > now()
       returning c.challenge
     )
     select f.expires_at <= now() as expired, f.consumed_at is not null as used, t.challenge
       from found f left join taken t on true`,
    [id],
  );
  const row = rows[0];
  if (!row) {
    throw new JpkiError('challenge-unknown');
  }
  if (row.challenge) {
    return Buffer.from(row.challenge);
  }
  // Neither used nor expired in our snapshot: another request consumed it a moment ago.
  throw new JpkiError(row.expired && !row.used ? 'challenge-expired' : 'challenge-used');
}

/**
 * Deletes challenges that expired more than `keepSeconds` ago; kept that long, a late replay
 * still answers "used" or "expired" rather than "unknown". Returns how many were deleted.
 */
export async function sweepJpkiChallenges(
  db: Queryable,
  options: { keepSeconds?: number } = {},
): Promise<number> {
  const { rowCount } = await db.query(
    'delete from identity.jpki_challenges where expires_at < now() - make_interval(secs => $1::double precision)',
    [options.keepSeconds ?? 3600],
  );
  return rowCount;
}
