/**
 * My Number Card login, step by step: read the input, consume the challenge, check that the card
 * signed it (proof of possession of the key), validate the certificate's path to a JPKI CA, ask
 * whether it is revoked. What comes out names the certificate by a hash only.
 */
import { webcrypto } from 'node:crypto';
import type * as pkijs from 'pkijs';
import type { Queryable } from '../../platform/index.ts';
import { consumeChallenge, isChallengeId } from './challenges.ts';
import { bindingHash, decodeBase64, nameText, parseCertificate } from './der.ts';
import { JpkiError } from './errors.ts';
import type { JpkiVerifier, RevocationEvidence } from './verifier.ts';

export interface CardLoginInput {
  challengeId: string;
  /** base64 of RSASSA-PKCS1-v1_5 with SHA-256 over the challenge bytes, by the card's user-authentication key. */
  signature: string;
  /** The card's user-authentication certificate: base64 DER or PEM. */
  certificate: string;
}

export interface CardLoginResult {
  /** hex SHA-256 of (issuer Name DER ‖ serial number): the only thing to store about the card. */
  bindingHash: string;
  /** The issuing CA's name, e.g. `C=JP, O=JPKI, OU=JPKI for user authentication, …`. */
  issuer: string;
  notAfter: Date;
  revocation: RevocationEvidence;
}

/** Far above an RSA-4096 signature or a real certificate; anything larger is not from a card. */
const MAX_SIGNATURE_BYTES = 1024;
const MAX_CERTIFICATE_CHARS = 32 * 1024;

interface ParsedInput {
  challengeId: string;
  signature: Uint8Array;
  certificate: pkijs.Certificate;
}

/** @throws JpkiError malformed */
function parseInput(input: unknown): ParsedInput {
  const { challengeId, signature, certificate } = (input ?? {}) as Record<string, unknown>;
  const signatureBytes = typeof signature === 'string' ? decodeBase64(signature) : undefined;
  const parsed =
    typeof certificate === 'string' && certificate.length <= MAX_CERTIFICATE_CHARS
      ? parseCertificate(certificate)
      : undefined;
  if (
    !isChallengeId(challengeId) ||
    !signatureBytes ||
    signatureBytes.length > MAX_SIGNATURE_BYTES ||
    !parsed
  ) {
    throw new JpkiError('malformed');
  }
  return { challengeId, signature: signatureBytes, certificate: parsed };
}

/**
 * Whether the holder of the certificate's key signed the challenge.
 * @throws JpkiError bad-signature
 */
async function checkPossession(certificate: pkijs.Certificate, challenge: Uint8Array, signature: Uint8Array) {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const spki = certificate.subjectPublicKeyInfo.toSchema().toBER();
  // A key that is not RSA cannot have made this signature; importing it fails like a wrong one.
  const valid = await webcrypto.subtle
    .importKey('spki', spki, algorithm, false, ['verify'])
    .then((key) => webcrypto.subtle.verify(algorithm, key, signature, challenge))
    .catch(() => false);
  if (!valid) {
    throw new JpkiError('bad-signature');
  }
}

/**
 * Verifies a My Number Card login. The input is read first (nothing is consumed for garbage),
 * then the challenge is consumed, so each challenge allows one attempt whatever its outcome.
 * @throws JpkiError with the first check that fails, in the order above
 */
export async function verifyCardLogin(
  db: Queryable,
  verifier: JpkiVerifier,
  input: CardLoginInput,
): Promise<CardLoginResult> {
  const { challengeId, signature, certificate } = parseInput(input);
  const challenge = await consumeChallenge(db, challengeId);
  await checkPossession(certificate, challenge, signature);
  const now = verifier.now();
  const issuer = await verifier.validatePath(certificate, now);
  const revocation = await verifier.checkRevocation(certificate, issuer, now);
  return {
    bindingHash: bindingHash(certificate),
    issuer: nameText(certificate.issuer),
    notAfter: certificate.notAfter.value,
    revocation,
  };
}
