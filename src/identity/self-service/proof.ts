/**
 * Proof that a resident entered their password (and code) a moment ago, carried by the forms that
 * follow it (confirming an authenticator, deleting a passkey) so the password is never put back in
 * a hidden field. The proof is sealed by the secret box, names one account and one purpose, ends
 * after a few minutes and works only in the browser it was given to (its form cookie), so a proof
 * copied out of a page is of no use elsewhere. No state is kept on the server.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SecretBox } from '../../platform/index.ts';
import { FORM_COOKIE } from './csrf.ts';

const SEALED_FOR = 'identity.self-service.proof';
/** Long enough to set up an authenticator app or look through the passkeys, short enough to expire unused. */
export const PROOF_SECONDS = 10 * 60;

export type ProofPurpose = 'authenticator' | 'passkeys';

export interface Proof {
  accountId: string;
  /** Seconds since the epoch. */
  expires: number;
}

export interface ProofKeeper {
  /**
   * A proof for the account, for this browser; `expires` keeps an earlier proof's end, so showing
   * a page again never lengthens it.
   */
  issue(request: FastifyRequest, purpose: ProofPurpose, accountId: string, expires?: number): string;
  /** The proof's account when it is sealed here, for this purpose and browser, and not expired. */
  check(request: FastifyRequest, purpose: ProofPurpose, given: unknown): Proof | undefined;
}

interface Sealed {
  account: string;
  purpose: ProofPurpose;
  expires: number;
  browser: string;
}

function browserOf(request: FastifyRequest): string | undefined {
  const cookie = request.cookies[FORM_COOKIE];
  return cookie ? createHash('sha256').update(cookie).digest('base64url') : undefined;
}

function unseal(box: SecretBox, given: string): Sealed | undefined {
  try {
    return JSON.parse(box.openText(given, SEALED_FOR)) as Sealed;
  } catch {
    // Altered, sealed by another deployment, or not a proof at all: the same refusal.
    return undefined;
  }
}

export function proofKeeper(box: SecretBox, now: () => number = Date.now): ProofKeeper {
  const seconds = () => Math.floor(now() / 1000);
  return {
    issue(request, purpose, accountId, expires) {
      const browser = browserOf(request);
      if (!browser) throw new Error('a proof is issued only after the form cookie was checked');
      const sealed: Sealed = {
        account: accountId,
        purpose,
        expires: expires ?? seconds() + PROOF_SECONDS,
        browser,
      };
      return box.seal(JSON.stringify(sealed), SEALED_FOR);
    },
    check(request, purpose, given) {
      if (typeof given !== 'string' || given.length === 0) return undefined;
      const sealed = unseal(box, given);
      const usable =
        sealed !== undefined &&
        sealed.purpose === purpose &&
        sealed.browser === browserOf(request) &&
        typeof sealed.account === 'string' &&
        Number.isInteger(sealed.expires) &&
        sealed.expires > seconds();
      return usable ? { accountId: sealed.account, expires: sealed.expires } : undefined;
    },
  };
}
