/**
 * A resident looks through the passkeys of their own account and deletes the ones they no longer
 * use. Listing needs the password again; each deletion names the account proven then, so a
 * passkey of another account is never touched (and answers like one that does not exist).
 */
import { recordAudit } from '../audit.ts';
import { deletePasskey, listPasskeys, type PasskeySummary } from '../login/passkey-store.ts';
import { checkCredentials, type Refusal } from './account-changes.ts';
import type { SelfServiceContext } from './context.ts';
import type { Credentials } from './forms.ts';

export type { PasskeySummary };

/** The resident's account once they have entered their password (and code) again. */
export async function openPasskeys(
  ctx: SelfServiceContext,
  credentials: Credentials,
): Promise<{ outcome: 'ok'; accountId: string } | Refusal> {
  const checked = await checkCredentials(ctx, credentials);
  return checked.outcome === 'ok' ? { outcome: 'ok', accountId: checked.account.id } : checked;
}

export function ownPasskeys(ctx: SelfServiceContext, accountId: string): Promise<PasskeySummary[]> {
  return listPasskeys(ctx.db, accountId);
}

/** Deletes one of the account's passkeys; returns its name, or undefined when the account has no such passkey. */
export async function removeOwnPasskey(
  ctx: SelfServiceContext,
  accountId: string,
  passkeyId: string,
): Promise<string | undefined> {
  const deleted = await ctx.db.transaction(async (tx) => {
    const passkey = await deletePasskey(tx, accountId, passkeyId);
    if (passkey) {
      await recordAudit(tx, {
        kind: 'passkey-removed',
        outcome: 'success',
        accountId,
        ip: ctx.ip,
        detail: { method: 'self-service', passkeyId, name: passkey.name },
      });
    }
    return passkey;
  });
  if (!deleted) {
    // Another account's passkey, or none: worth an operator's look, though nothing was deleted.
    await recordAudit(ctx.db, {
      kind: 'passkey-removed',
      outcome: 'failure',
      accountId,
      ip: ctx.ip,
      detail: { method: 'self-service', reason: 'no such passkey of this account' },
    });
  }
  return deleted?.name;
}
