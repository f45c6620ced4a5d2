/**
 * My Number Card login: the card's signature over Machi's challenge is verified (jpki/), then the
 * certificate's binding hash names the account. A card not bound yet is bound to the account of the
 * session when the resident is logged in already (the first use, or a renewed card); otherwise the
 * login fails and says how to bind it.
 */
import type { Db } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';
import { JpkiError, type JpkiVerifier, verifyCardLogin } from '../jpki/index.ts';
import type { Attempt } from './password.ts';

export type CardOutcome =
  | { outcome: 'success'; accountId: string; bound: boolean }
  /** The card is genuine but bound to no account, and nobody is logged in to bind it to. */
  | { outcome: 'unbound' };

export async function cardLogin(
  db: Db,
  verifier: JpkiVerifier,
  attempt: Attempt & {
    challengeId: string;
    signature: string;
    certificate: string;
    sessionAccountId?: string;
  },
): Promise<CardOutcome> {
  let verified: Awaited<ReturnType<typeof verifyCardLogin>>;
  try {
    verified = await verifyCardLogin(db, verifier, attempt);
  } catch (error) {
    await recordAudit(db, {
      kind: 'login-failed',
      outcome: 'failure',
      accountId: attempt.sessionAccountId,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail: { method: 'card', reason: error instanceof JpkiError ? error.code : 'error' },
    });
    throw error;
  }
  const { rows } = await db.query<{ account_id: string }>(
    `update identity.card_bindings set last_used_at = now() where binding_hash = $1 returning account_id`,
    [verified.bindingHash],
  );
  if (rows[0]) {
    return { outcome: 'success', accountId: rows[0].account_id, bound: false };
  }
  if (!attempt.sessionAccountId) {
    return { outcome: 'unbound' };
  }
  await db.query('insert into identity.card_bindings (binding_hash, account_id) values ($1, $2)', [
    verified.bindingHash,
    attempt.sessionAccountId,
  ]);
  await recordAudit(db, {
    kind: 'card-bound',
    outcome: 'success',
    accountId: attempt.sessionAccountId,
    clientId: attempt.clientId,
    ip: attempt.ip,
    detail: { issuer: verified.issuer },
  });
  return { outcome: 'success', accountId: attempt.sessionAccountId, bound: true };
}
