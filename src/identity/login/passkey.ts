/**
 * Passkey (WebAuthn) login and registration: options with one-time challenges kept in the database,
 * verification by @simplewebauthn/server with user verification required, and the residents'
 * public keys. A passkey is discoverable, so logging in needs no e-mail address; a challenge
 * belongs to one interaction and one purpose, and is consumed by the statement that reads it.
 */
import { createHmac } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { NotFound, parseAddress, type Queryable } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';
import {
  type ChallengeKey,
  findPasskey,
  insertChallenge,
  insertPasskey,
  recordPasskeyUse,
  registeringAccount,
  type StoredPasskey,
  takeChallenge,
} from './passkey-store.ts';
import type { Attempt } from './password.ts';

export { mayOfferPasskey, sweepPasskeyChallenges } from './passkey-store.ts';

/** A challenge outlives the browser's own timeout, so a slow resident gets the browser's message. */
const CHALLENGE_SECONDS = 5 * 60;
const TIMEOUT_MS = 2 * 60 * 1000;
const NAME_LENGTH = 60;

/** Where passkeys are valid: the RP ID is PUBLIC_URL's host name, the origin PUBLIC_URL's origin. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export interface PasskeyContext {
  db: Queryable;
  rp: RelyingParty;
  /** Makes the user handle stored in a passkey: opaque, and not the account id itself. */
  userHandleKey: Buffer;
}

/**
 * The relying party of a deployment at `publicUrl`, or undefined when its host is an IP address:
 * browsers refuse an IP address as an RP ID (Chromium: "This is an invalid domain"), so passkeys
 * need a domain name (`localhost` will do for development).
 */
export function relyingPartyOf(publicUrl: string, name: string): RelyingParty | undefined {
  const url = new URL(publicUrl);
  return parseAddress(url.hostname) ? undefined : { id: url.hostname, origin: url.origin, name };
}

export type PasskeyFailure =
  /** The browser sent something that is not a WebAuthn credential in JSON. */
  | 'malformed'
  /** No account has this passkey (it was deleted here, or belongs to another site). */
  | 'unknown-passkey'
  /** The challenge was never issued for this interaction, was used, or expired: a replay or forgery. */
  | 'challenge'
  /** The signature, origin, RP ID or user verification did not check out. */
  | 'not-verified'
  /** The signature counter did not grow: the authenticator may have been cloned. */
  | 'counter'
  /** The user handle in the assertion is not the one of the passkey's account. */
  | 'user-handle'
  /** The passkey is registered already. */
  | 'exists';

export class PasskeyError extends Error {
  readonly reason: PasskeyFailure;

  constructor(reason: PasskeyFailure) {
    super(`passkey refused: ${reason}`);
    this.reason = reason;
    this.name = 'PasskeyError';
  }
}

function userHandle(ctx: PasskeyContext, accountId: string): Buffer {
  return createHmac('sha256', ctx.userHandleKey).update(`passkey-user:${accountId}`).digest();
}

/** The credential the browser sent (`credential.toJSON()`, as a string), or PasskeyError malformed. */
function parseCredential<T extends AuthenticationResponseJSON | RegistrationResponseJSON>(text: unknown): T {
  try {
    const value = JSON.parse(String(text)) as Partial<T> | null;
    if (typeof value?.id === 'string' && typeof value.response === 'object' && value.response !== null) {
      return value as T;
    }
  } catch {
    // Reported as malformed below.
  }
  throw new PasskeyError('malformed');
}

/** How far a verification got with the challenge: not looked at, refused, or consumed. */
type ChallengeState = 'unchecked' | 'refused' | 'taken';

/**
 * A challenge check for the library: consumes the challenge if it was issued for `key` (less the
 * challenge itself), and remembers the outcome so a failure can be told apart from a replay.
 */
function challengeCheck(db: Queryable, key: Omit<ChallengeKey, 'challenge'>) {
  const check = {
    state: 'unchecked' as ChallengeState,
    async expected(challenge: string): Promise<boolean> {
      const taken = await takeChallenge(db, { ...key, challenge });
      check.state = taken ? 'taken' : 'refused';
      return taken;
    },
  };
  return check;
}

/** What the library's exceptions mean for the resident (its messages are for developers). */
function failureOf(error: unknown, challenge: ChallengeState): PasskeyFailure {
  if (error instanceof PasskeyError) return error.reason;
  if (challenge === 'unchecked') return 'malformed';
  if (challenge === 'refused') return 'challenge';
  return /counter/i.test(String((error as Error)?.message)) ? 'counter' : 'not-verified';
}

/** Options for `navigator.credentials.get`: any passkey of this site, user verification required. */
export async function loginOptions(
  ctx: PasskeyContext,
  uid: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: ctx.rp.id,
    userVerification: 'required',
    timeout: TIMEOUT_MS,
  });
  await insertChallenge(ctx.db, { challenge: options.challenge, purpose: 'login', uid }, CHALLENGE_SECONDS);
  return options;
}

async function verifyAssertion(
  ctx: PasskeyContext,
  uid: string,
  response: AuthenticationResponseJSON,
  passkey: StoredPasskey,
) {
  const check = challengeCheck(ctx.db, { purpose: 'login', uid });
  try {
    const { verified, authenticationInfo } = await verifyAuthenticationResponse({
      response,
      expectedChallenge: check.expected,
      expectedOrigin: ctx.rp.origin,
      expectedRPID: ctx.rp.id,
      credential: {
        id: response.id,
        publicKey: new Uint8Array(passkey.publicKey),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    });
    if (!verified) throw new PasskeyError('not-verified');
    return authenticationInfo;
  } catch (error) {
    throw new PasskeyError(failureOf(error, check.state));
  }
}

async function checkAssertion(
  ctx: PasskeyContext,
  uid: string,
  response: AuthenticationResponseJSON,
  passkey: StoredPasskey,
): Promise<void> {
  const info = await verifyAssertion(ctx, uid, response, passkey);
  const handle = response.response.userHandle;
  if (handle && handle !== userHandle(ctx, passkey.accountId).toString('base64url')) {
    throw new PasskeyError('user-handle');
  }
  // Checked again as it is stored: a cloned authenticator racing the original cannot pass twice.
  if (!(await recordPasskeyUse(ctx.db, passkey.id, info.newCounter))) {
    throw new PasskeyError('counter');
  }
}

/**
 * Verifies the assertion the browser sent for a challenge of this interaction; returns the account
 * it logs in. Failures are audited ('login-failed', method passkey) and thrown as PasskeyError.
 */
export async function verifyPasskeyLogin(
  ctx: PasskeyContext,
  attempt: Attempt & { uid: string; credential: unknown },
): Promise<{ accountId: string; passkeyId: string }> {
  let accountId: string | undefined;
  try {
    const response = parseCredential<AuthenticationResponseJSON>(attempt.credential);
    const passkey = await findPasskey(ctx.db, response.id);
    if (!passkey) throw new PasskeyError('unknown-passkey');
    accountId = passkey.accountId;
    await checkAssertion(ctx, attempt.uid, response, passkey);
    return { accountId, passkeyId: passkey.id };
  } catch (error) {
    if (!(error instanceof PasskeyError)) throw error;
    await recordAudit(ctx.db, {
      kind: 'login-failed',
      outcome: 'failure',
      accountId,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail: { method: 'passkey', reason: error.reason },
    });
    throw error;
  }
}

/** Options for `navigator.credentials.create`: a discoverable passkey with user verification. */
export async function registrationOptions(
  ctx: PasskeyContext,
  input: { uid: string; accountId: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const account = await registeringAccount(ctx.db, input.accountId);
  if (!account) throw new NotFound('the account of this login is gone');
  const options = await generateRegistrationOptions({
    rpName: ctx.rp.name,
    rpID: ctx.rp.id,
    userID: new Uint8Array(userHandle(ctx, input.accountId)),
    // Shown by the browser's passkey picker: the name the resident logs in with.
    userName: account.email ?? account.displayName,
    userDisplayName: account.displayName,
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: account.credentialIds.map((id) => ({ id })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const key = { challenge: options.challenge, purpose: 'register', ...input } as const;
  await insertChallenge(ctx.db, key, CHALLENGE_SECONDS);
  return options;
}

async function verifyAttestation(
  ctx: PasskeyContext,
  input: { uid: string; accountId: string },
  response: RegistrationResponseJSON,
) {
  const check = challengeCheck(ctx.db, { purpose: 'register', ...input });
  try {
    const { verified, registrationInfo } = await verifyRegistrationResponse({
      response,
      expectedChallenge: check.expected,
      expectedOrigin: ctx.rp.origin,
      expectedRPID: ctx.rp.id,
      requireUserVerification: true,
    });
    if (!verified) throw new PasskeyError('not-verified');
    return registrationInfo;
  } catch (error) {
    throw new PasskeyError(failureOf(error, check.state));
  }
}

async function storePasskey(
  ctx: PasskeyContext,
  accountId: string,
  name: string,
  info: Awaited<ReturnType<typeof verifyAttestation>>,
): Promise<string> {
  const { credential } = info;
  const id = await insertPasskey(ctx.db, {
    credentialId: credential.id,
    accountId,
    publicKey: credential.publicKey,
    counter: credential.counter,
    transports: credential.transports ?? [],
    backedUp: info.credentialBackedUp,
    name,
  });
  if (!id) throw new PasskeyError('exists');
  return id;
}

/**
 * Verifies and stores the passkey the browser created for a registration challenge of this
 * interaction and account; audits 'passkey-registered' either way.
 */
export async function registerPasskey(
  ctx: PasskeyContext,
  attempt: Attempt & { uid: string; accountId: string; credential: unknown; name: string },
): Promise<{ passkeyId: string }> {
  const name = attempt.name.trim().slice(0, NAME_LENGTH);
  const audit = (outcome: 'success' | 'failure', detail: Record<string, unknown>) =>
    recordAudit(ctx.db, {
      kind: 'passkey-registered',
      outcome,
      accountId: attempt.accountId,
      clientId: attempt.clientId,
      ip: attempt.ip,
      detail,
    });
  try {
    const response = parseCredential<RegistrationResponseJSON>(attempt.credential);
    const info = await verifyAttestation(ctx, attempt, response);
    const passkeyId = await storePasskey(ctx, attempt.accountId, name, info);
    await audit('success', { passkeyId, name, backedUp: info.credentialBackedUp, aaguid: info.aaguid });
    return { passkeyId };
  } catch (error) {
    if (error instanceof PasskeyError) await audit('failure', { reason: error.reason });
    throw error;
  }
}
