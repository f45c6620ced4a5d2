/**
 * Password reset by a mailed link. Asking answers the same whether the address has an account;
 * using the link sets the password, proves the address and ends every session and token the
 * account had, so whoever knew the old password is logged out, of every service too.
 */
import { findAccountByEmail, findAccountById } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { endAccountSessions } from '../oidc/revoke.ts';
import { hashPassword } from '../passwords.ts';
import { recordLoginSuccess } from '../throttle.ts';
import type { Limited, SelfServiceContext } from './context.ts';
import { admitMailRequest } from './limits.ts';
import { setPasswordHash } from './store.ts';
import { useToken } from './tokens.ts';

/** Mails a reset link to a resident's account with this address, if there is one. */
export async function requestPasswordReset(
  ctx: SelfServiceContext,
  email: string,
): Promise<{ outcome: 'sent' } | Limited> {
  const verdict = await admitMailRequest(ctx.db, email, ctx.ip);
  if (!verdict.allowed) return { outcome: 'limited', retryAfterSeconds: verdict.retryAfterSeconds };
  const account = await findAccountByEmail(ctx.db, email);
  // Staff accounts are reset by their administrators, not by mail.
  if (account?.kind === 'resident') await ctx.mail(ctx.db, 'reset-password', account.id);
  return { outcome: 'sent' };
}

/** Uses a reset link to set the password; false when the link is unknown, used or expired. */
export async function resetPassword(
  ctx: SelfServiceContext,
  token: unknown,
  password: string,
): Promise<boolean> {
  // Hashed before the transaction, which then stays short.
  const passwordHash = await hashPassword(password);
  const logouts = await ctx.db.transaction(async (tx) => {
    const id = await useToken(tx, token, 'reset-password');
    if (!id) return undefined;
    await setPasswordHash(tx, id, passwordHash);
    const ended = await endAccountSessions(tx, id, { grants: false });
    await recordAudit(tx, {
      kind: 'password-reset',
      outcome: 'success',
      accountId: id,
      ip: ctx.ip,
      detail: { method: 'e-mail link' },
    });
    return ended;
  });
  if (!logouts) return false;
  await ctx.logout(logouts);
  const { accountId } = logouts;
  // A resident locked out by failed logins may log in with the new password at once.
  const account = await findAccountById(ctx.db, accountId);
  if (account?.email) await recordLoginSuccess(ctx.db, { account: account.email });
  return true;
}
