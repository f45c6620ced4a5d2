/**
 * Password login, with its second factor: the throttle is asked before the password is checked and
 * told the outcome after, every outcome is audited (never the e-mail or the password), and staff
 * cannot log in on a password alone.
 */
import type { Db, SecretBox } from '../../platform/index.ts';
import { type Account, authenticatePassword } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { awaitsEmailVerification } from '../self-service/store.ts';
import { loginAllowed, recordLoginFailure, recordLoginSuccess } from '../throttle.ts';
import { hasTotp, verifyTotp } from '../totp.ts';

export interface Attempt {
  ip: string;
  clientId: string | undefined;
}

export type PasswordOutcome =
  | { outcome: 'success'; account: Account }
  /** The password was right; a TOTP code must follow. */
  | { outcome: 'totp'; account: Account }
  | { outcome: 'wrong' }
  | { outcome: 'locked'; retryAfterSeconds: number }
  /** Staff must use a second factor and this account has none enrolled. */
  | { outcome: 'needs-second-factor' }
  /** The password was right, but the resident registered themselves and has not verified the e-mail address. */
  | { outcome: 'unverified'; account: Account };

async function failed(db: Db, key: string, attempt: Attempt, method: string, accountId?: string) {
  const { accountLocked, ipLocked, lockedForSeconds } = await recordLoginFailure(db, {
    account: key,
    ip: attempt.ip,
  });
  await recordAudit(db, {
    kind: 'login-failed',
    outcome: 'failure',
    accountId,
    clientId: attempt.clientId,
    ip: attempt.ip,
    detail: { method },
  });
  if (accountLocked || ipLocked) {
    await recordAudit(db, {
      kind: 'locked-out',
      outcome: 'failure',
      accountId,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail: { method, seconds: lockedForSeconds, by: accountLocked ? 'account' : 'address' },
    });
  }
}

export async function checkPassword(
  db: Db,
  attempt: Attempt & { email: string; password: string },
): Promise<PasswordOutcome> {
  const key = attempt.email.trim();
  const verdict = await loginAllowed(db, { account: key, ip: attempt.ip });
  if (!verdict.allowed) {
    return { outcome: 'locked', retryAfterSeconds: verdict.retryAfterSeconds };
  }
  const account = await authenticatePassword(db, key, attempt.password);
  if (!account) {
    await failed(db, key, attempt, 'password');
    return { outcome: 'wrong' };
  }
  await recordLoginSuccess(db, { account: key });
  if (await awaitsEmailVerification(db, account.id)) {
    await recordAudit(db, {
      kind: 'login-failed',
      outcome: 'failure',
      accountId: account.id,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail: { method: 'password', reason: 'e-mail address not verified' },
    });
    return { outcome: 'unverified', account };
  }
  if (await hasTotp(db, account.id)) {
    return { outcome: 'totp', account };
  }
  if (account.kind === 'staff') {
    await recordAudit(db, {
      kind: 'login-failed',
      outcome: 'failure',
      accountId: account.id,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail: { method: 'password', reason: 'second factor required' },
    });
    return { outcome: 'needs-second-factor' };
  }
  return { outcome: 'success', account };
}

export type TotpOutcome =
  | { outcome: 'success' }
  | { outcome: 'wrong' }
  | { outcome: 'locked'; retryAfterSeconds: number };

/** The second step: a code from the authenticator app, throttled like the password. */
export async function checkTotp(
  db: Db,
  box: SecretBox,
  attempt: Attempt & { accountId: string; code: string },
): Promise<TotpOutcome> {
  const key = attempt.accountId;
  const verdict = await loginAllowed(db, { account: key, ip: attempt.ip });
  if (!verdict.allowed) {
    return { outcome: 'locked', retryAfterSeconds: verdict.retryAfterSeconds };
  }
  if (!(await verifyTotp(db, box, attempt.accountId, attempt.code))) {
    await failed(db, key, attempt, 'totp', attempt.accountId);
    return { outcome: 'wrong' };
  }
  await recordLoginSuccess(db, { account: key });
  return { outcome: 'success' };
}

/** Audits a completed login (the method and level, never a credential). */
export async function auditLogin(
  db: Db,
  attempt: Attempt & { accountId: string; acr: string; amr: string[] },
) {
  await recordAudit(db, {
    kind: 'login',
    outcome: 'success',
    accountId: attempt.accountId,
    clientId: attempt.clientId,
    ip: attempt.ip,
    detail: { acr: attempt.acr, amr: attempt.amr },
  });
}
