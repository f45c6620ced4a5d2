/**
 * Registration and e-mail verification. Whether the address has an account already or not, the
 * resident sees the same answer; the owner of an existing account gets a mail saying someone tried.
 */
import { Conflict } from '../../platform/index.ts';
import { addAccount, findAccountByEmail } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import type { Limited, SelfServiceContext } from './context.ts';
import type { Registration } from './forms.ts';
import { admitMailRequest } from './limits.ts';
import { awaitsEmailVerification, markEmailVerified, recordRegistration } from './store.ts';
import { useToken } from './tokens.ts';

type Sent = { outcome: 'sent' };

/**
 * Creates an unverified resident account and mails the verification link. For a taken address
 * nothing is created and the owner is told instead; the password is hashed either way, so the two
 * take as long.
 */
export async function registerResident(
  ctx: SelfServiceContext,
  input: Registration,
): Promise<Sent | Limited> {
  const verdict = await admitMailRequest(ctx.db, input.email, ctx.ip);
  if (!verdict.allowed) return { outcome: 'limited', retryAfterSeconds: verdict.retryAfterSeconds };
  try {
    await ctx.db.transaction(async (tx) => {
      const account = await addAccount(tx, {
        kind: 'resident',
        email: input.email,
        displayName: input.name,
        password: input.password,
        homeTenantCode: input.municipality,
      });
      await recordRegistration(tx, account.id);
      await recordAudit(tx, {
        kind: 'account-created',
        outcome: 'success',
        accountId: account.id,
        ip: ctx.ip,
        detail: { method: 'self-service' },
      });
      await ctx.mail(tx, 'verify-email', account.id);
    });
  } catch (error) {
    if (!(error instanceof Conflict)) throw error;
    const existing = await findAccountByEmail(ctx.db, input.email);
    // Staff accounts are managed by their administrators; they get no self-service mail.
    if (existing?.kind === 'resident') await ctx.mail(ctx.db, 'already-registered', existing.id);
  }
  return { outcome: 'sent' };
}

/** Uses a verification link; false when it is unknown, used or expired. */
export async function verifyEmail(ctx: SelfServiceContext, token: unknown): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const accountId = await useToken(tx, token, 'verify-email');
    if (!accountId) return false;
    await markEmailVerified(tx, accountId);
    await recordAudit(tx, {
      kind: 'email-verified',
      outcome: 'success',
      accountId,
      ip: ctx.ip,
      detail: { method: 'e-mail link' },
    });
    return true;
  });
}

/** Mails a new verification link when the address belongs to an account that still awaits one. */
export async function resendVerification(ctx: SelfServiceContext, email: string): Promise<Sent | Limited> {
  const verdict = await admitMailRequest(ctx.db, email, ctx.ip);
  if (!verdict.allowed) return { outcome: 'limited', retryAfterSeconds: verdict.retryAfterSeconds };
  const account = await findAccountByEmail(ctx.db, email);
  if (account && (await awaitsEmailVerification(ctx.db, account.id))) {
    await ctx.mail(ctx.db, 'verify-email', account.id);
  }
  return { outcome: 'sent' };
}
