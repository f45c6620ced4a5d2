/**
 * Changes a resident makes to their own account without a login session: moving to another
 * municipality, and deleting the account. Each asks for the e-mail address and password again
 * (and the authenticator code when the account has one), throttled and audited like a login.
 */
import type { Account } from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { checkPassword, checkTotp } from '../login/password.ts';
import { endAccountSessions } from '../oidc/revoke.ts';
import type { Limited, SelfServiceContext } from './context.ts';
import type { Credentials } from './forms.ts';
import { deleteAccountRow, setHomeMunicipality } from './store.ts';

export type Refusal =
  | Limited
  | { outcome: 'wrong' }
  /** The account has an authenticator app and no code was given. */
  | { outcome: 'needs-code' }
  | { outcome: 'wrong-code' }
  /** Staff accounts are changed by their administrators. */
  | { outcome: 'not-resident' };

type Checked = { outcome: 'ok'; account: Account } | Refusal;

function residentOnly(account: Account): Checked {
  return account.kind === 'resident' ? { outcome: 'ok', account } : { outcome: 'not-resident' };
}

/**
 * The resident these credentials belong to, or why not; throttled and audited like a login, the
 * code asked for (and used up) only when the account has an authenticator.
 */
export async function checkCredentials(ctx: SelfServiceContext, credentials: Credentials): Promise<Checked> {
  const attempt = { ip: ctx.ip, clientId: undefined };
  const result = await checkPassword(ctx.db, {
    ...attempt,
    email: credentials.email,
    password: credentials.password,
  });
  switch (result.outcome) {
    case 'locked':
      return { outcome: 'limited', retryAfterSeconds: result.retryAfterSeconds };
    case 'wrong':
      return { outcome: 'wrong' };
    case 'needs-second-factor':
      return { outcome: 'not-resident' };
    case 'success':
    case 'unverified':
      // An unverified resident may still move or delete the account (a mistyped address, say).
      return residentOnly(result.account);
    case 'totp': {
      if (result.account.kind !== 'resident') return { outcome: 'not-resident' };
      if (!credentials.code) return { outcome: 'needs-code' };
      const totp = await checkTotp(ctx.db, ctx.box, {
        ...attempt,
        accountId: result.account.id,
        code: credentials.code,
      });
      if (totp.outcome === 'locked') return { outcome: 'limited', retryAfterSeconds: totp.retryAfterSeconds };
      return totp.outcome === 'success'
        ? { outcome: 'ok', account: result.account }
        : { outcome: 'wrong-code' };
    }
  }
}

/** Deletes the resident's account with its sessions, consents (grants) and tokens. */
export async function deleteOwnAccount(
  ctx: SelfServiceContext,
  credentials: Credentials,
): Promise<{ outcome: 'done' } | Refusal> {
  const checked = await checkCredentials(ctx, credentials);
  if (checked.outcome !== 'ok') return checked;
  const { id } = checked.account;
  const logouts = await ctx.db.transaction(async (tx) => {
    const ended = await endAccountSessions(tx, id, { grants: true });
    await deleteAccountRow(tx, id);
    // The trail outlives the account (no foreign key), without the address.
    await recordAudit(tx, {
      kind: 'account-deleted',
      outcome: 'success',
      accountId: id,
      ip: ctx.ip,
      detail: { method: 'self-service' },
    });
    return ended;
  });
  await ctx.logout(logouts);
  return { outcome: 'done' };
}

/** Makes `municipality` the resident's home; services see it in `home_municipality` from then on. */
export async function moveHome(
  ctx: SelfServiceContext,
  input: Credentials & { municipality: string },
): Promise<{ outcome: 'done' } | Refusal> {
  const checked = await checkCredentials(ctx, input);
  if (checked.outcome !== 'ok') return checked;
  const { id } = checked.account;
  await ctx.db.transaction(async (tx) => {
    const previous = await setHomeMunicipality(tx, id, input.municipality);
    if (previous) {
      await recordAudit(tx, {
        kind: 'municipality-changed',
        outcome: 'success',
        accountId: id,
        ip: ctx.ip,
        detail: { from: previous, to: input.municipality },
      });
    }
  });
  return { outcome: 'done' };
}
