/**
 * A resident sets up, or removes, the authenticator app (TOTP) of their own account. Setting up
 * takes two steps: the password (and nothing else) starts an enrolment, whose seed waits sealed in
 * the unconfirmed factor row; a code from the app confirms it. Wrong codes count against the login
 * throttle, since six digits fall to guessing without a limit. Every change is audited, no seed
 * nor code ever is.
 */

import { Conflict, NotFound } from '../../platform/index.ts';
import { type Account, findAccountById } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { loginAllowed, recordLoginFailure, recordLoginSuccess } from '../throttle.ts';
import {
  confirmTotpEnrolment,
  hasTotp,
  pendingTotpEnrolment,
  removeTotp,
  startTotpEnrolment,
  type TotpEnrolment,
} from '../totp.ts';
import { checkCredentials, type Refusal } from './account-changes.ts';
import type { Limited, SelfServiceContext } from './context.ts';
import type { Credentials } from './forms.ts';

/** What the app shows next to the codes. */
function labelOf(account: { email: string | null; displayName: string }): string {
  return account.email ?? account.displayName;
}

export type StartOutcome =
  | { outcome: 'started'; account: Account; enrolment: TotpEnrolment }
  /** A confirmed authenticator is there already: remove it first. */
  | { outcome: 'enrolled-already' }
  | Refusal;

/** Starts (or starts over) an enrolment once the resident has entered their password again. */
export async function startAuthenticator(
  ctx: SelfServiceContext,
  credentials: Credentials,
): Promise<StartOutcome> {
  const checked = await checkCredentials(ctx, credentials);
  if (checked.outcome !== 'ok') return checked;
  const { account } = checked;
  if (await hasTotp(ctx.db, account.id)) return { outcome: 'enrolled-already' };
  try {
    const enrolment = await startTotpEnrolment(ctx.db, ctx.box, account.id, labelOf(account));
    return { outcome: 'started', account, enrolment };
  } catch (error) {
    // Confirmed in another tab meanwhile.
    if (error instanceof Conflict) return { outcome: 'enrolled-already' };
    throw error;
  }
}

/** The enrolment waiting for its code, to show again; undefined when there is none. */
export async function pendingAuthenticator(
  ctx: SelfServiceContext,
  accountId: string,
): Promise<TotpEnrolment | undefined> {
  const account = await findAccountById(ctx.db, accountId);
  return account && pendingTotpEnrolment(ctx.db, ctx.box, account.id, labelOf(account));
}

export type ConfirmOutcome =
  | { outcome: 'done' }
  | { outcome: 'wrong-code' }
  /** No enrolment is pending (removed, or the account deleted): start again. */
  | { outcome: 'gone' }
  | { outcome: 'enrolled-already' }
  | Limited;

/** A wrong code: counted like a wrong login code, and audited. */
async function wrongCode(ctx: SelfServiceContext, accountId: string): Promise<void> {
  const { accountLocked, ipLocked, lockedForSeconds } = await recordLoginFailure(ctx.db, {
    account: accountId,
    ip: ctx.ip,
  });
  const audit = { accountId, ip: ctx.ip, outcome: 'failure' } as const;
  await recordAudit(ctx.db, {
    ...audit,
    kind: 'totp-enrolled',
    detail: { method: 'self-service', reason: 'wrong code' },
  });
  if (accountLocked || ipLocked) {
    await recordAudit(ctx.db, {
      ...audit,
      kind: 'locked-out',
      detail: { method: 'totp', seconds: lockedForSeconds, by: accountLocked ? 'account' : 'address' },
    });
  }
}

/** Confirms the pending enrolment of the account with a code from the app; the code is used up. */
export async function confirmAuthenticator(
  ctx: SelfServiceContext,
  accountId: string,
  code: string,
): Promise<ConfirmOutcome> {
  const verdict = await loginAllowed(ctx.db, { account: accountId, ip: ctx.ip });
  if (!verdict.allowed) return { outcome: 'limited', retryAfterSeconds: verdict.retryAfterSeconds };
  let confirmed: boolean;
  try {
    confirmed = await confirmTotpEnrolment(ctx.db, ctx.box, accountId, code);
  } catch (error) {
    if (error instanceof NotFound) return { outcome: 'gone' };
    if (error instanceof Conflict) return { outcome: 'enrolled-already' };
    throw error;
  }
  if (!confirmed) {
    await wrongCode(ctx, accountId);
    return { outcome: 'wrong-code' };
  }
  await recordLoginSuccess(ctx.db, { account: accountId });
  await recordAudit(ctx.db, {
    kind: 'totp-enrolled',
    outcome: 'success',
    accountId,
    ip: ctx.ip,
    detail: { method: 'self-service' },
  });
  return { outcome: 'done' };
}

/**
 * Removes the resident's authenticator; the credentials must include a current code from it
 * (checkCredentials asks for one whenever the account has an authenticator).
 */
export async function removeAuthenticator(
  ctx: SelfServiceContext,
  credentials: Credentials,
): Promise<{ outcome: 'done' } | { outcome: 'none' } | Refusal> {
  const checked = await checkCredentials(ctx, credentials);
  if (checked.outcome !== 'ok') return checked;
  const { id } = checked.account;
  if (!(await hasTotp(ctx.db, id))) return { outcome: 'none' };
  await ctx.db.transaction(async (tx) => {
    await removeTotp(tx, id);
    await recordAudit(tx, {
      kind: 'totp-removed',
      outcome: 'success',
      accountId: id,
      ip: ctx.ip,
      detail: { method: 'self-service' },
    });
  });
  return { outcome: 'done' };
}
