/**
 * My Number Card login (マイナンバーカード, JPKI 利用者証明用電子証明書): challenges, the card's
 * signature, path validation to the J-LIS CAs and revocation (OCSP, CRL). A library for the login
 * route; it never stores, logs or returns the certificate, only a hash that names it.
 */
export { issueChallenge, type JpkiChallenge, sweepJpkiChallenges } from './challenges.ts';
export { type JpkiConfig, jpkiConfig, jpkiOptions, loadJpkiConfig } from './config.ts';
export { JpkiError, type JpkiErrorCode } from './errors.ts';
export {
  createJpkiVerifier,
  JpkiVerifier,
  type JpkiVerifierOptions,
  type RevocationEvidence,
} from './verifier.ts';
export { type CardLoginInput, type CardLoginResult, verifyCardLogin } from './verify.ts';
