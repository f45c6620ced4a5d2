/**
 * The verifier of one deployment: the trusted JPKI CAs, the revocation sources (OCSP first when
 * configured, the certificate's CRL otherwise or as fallback) and the CRL cache they share. An
 * unanswered revocation question fails the login; it never lets it pass.
 */
import * as pkijs from 'pkijs';
import type { OutboundPolicy } from '../../platform/index.ts';
import type { JpkiConfig } from './config.ts';
import { CrlCache } from './crl.ts';
import { parseDer, pemBlocks } from './der.ts';
import { JpkiError } from './errors.ts';
import { fetchBytes } from './fetch.ts';
import { ocspRequestUrl, readOcspAnswer } from './ocsp.ts';
import { validatePath } from './path.ts';

export interface RevocationEvidence {
  method: 'crl' | 'ocsp';
  /** When this check was made. */
  checkedAt: Date;
  /** When the answer was made: the CRL's thisUpdate, or the OCSP answer's producedAt. */
  producedAt: Date;
}

export interface JpkiVerifierOptions {
  /** The clock for certificate and revocation dates (tests move it); challenges use the database's. */
  now?: () => Date;
  /** Called with why OCSP gave no answer before the CRL is asked; never given the certificate. */
  onOcspFallback?: (reason: string) => void;
}

/** An OCSP answer is a few kilobytes; this leaves room for a chain of responder certificates. */
const OCSP_MAX_BYTES = 256 * 1024;

function parseAnchors(pems: string[]): pkijs.Certificate[] {
  return pems.flatMap((pem) =>
    pemBlocks(pem, 'CERTIFICATE').map((der) => {
      const certificate = parseDer(der, (schema) => new pkijs.Certificate({ schema }));
      if (!certificate) {
        throw new Error('a JPKI CA certificate cannot be read');
      }
      return certificate;
    }),
  );
}

export class JpkiVerifier {
  readonly challengeSeconds: number;
  readonly #anchors: pkijs.Certificate[];
  readonly #config: JpkiConfig;
  readonly #policy: OutboundPolicy;
  readonly #crls: CrlCache;
  readonly #options: JpkiVerifierOptions;

  /** @throws Error when the configuration has no CA certificate (card login is off) */
  constructor(config: JpkiConfig, policy: OutboundPolicy, options: JpkiVerifierOptions = {}) {
    this.#anchors = parseAnchors(config.caCertificates);
    if (this.#anchors.length === 0) {
      throw new Error('no JPKI CA certificate is configured (JPKI_CA_CERTS): My Number Card login is off');
    }
    this.challengeSeconds = config.challengeSeconds;
    this.#config = config;
    this.#policy = policy;
    this.#options = options;
    const limits = { maxBytes: config.crlMaxBytes, timeoutMs: config.revocationTimeoutMs };
    this.#crls = new CrlCache((url) => fetchBytes(policy, url, 'application/pkix-crl', limits));
  }

  now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /**
   * Path validation to a configured CA; returns the issuing CA's certificate.
   * @throws JpkiError untrusted-certificate, certificate-expired, certificate-not-yet-valid, wrong-key-usage
   */
  validatePath(certificate: pkijs.Certificate, now: Date): Promise<pkijs.Certificate> {
    return validatePath(certificate, this.#anchors, now);
  }

  /**
   * Asks whether the certificate is revoked: OCSP when configured, else (or when OCSP gives no
   * answer) the CRL.
   * @throws JpkiError revoked, or revocation-unavailable when no source answers
   */
  async checkRevocation(
    certificate: pkijs.Certificate,
    issuer: pkijs.Certificate,
    now: Date,
  ): Promise<RevocationEvidence> {
    const checkedAt = now;
    if (this.#config.ocspUrl) {
      const answer = await this.#askOcsp(this.#config.ocspUrl, certificate, issuer, now).catch(
        (error: Error) => {
          this.#options.onOcspFallback?.(error.message);
          return undefined;
        },
      );
      if (answer?.status === 'revoked') {
        throw new JpkiError('revoked');
      }
      if (answer?.status === 'good') {
        return { method: 'ocsp', checkedAt, producedAt: answer.producedAt };
      }
      if (answer) {
        this.#options.onOcspFallback?.('the OCSP responder does not know the certificate');
      }
    }
    const crl = await this.#crls.check(certificate, issuer, now).catch((error: Error) => {
      throw new JpkiError('revocation-unavailable', { cause: error });
    });
    if (crl.revoked) {
      throw new JpkiError('revoked');
    }
    return { method: 'crl', checkedAt, producedAt: crl.producedAt };
  }

  async #askOcsp(responder: string, certificate: pkijs.Certificate, issuer: pkijs.Certificate, now: Date) {
    const { url, nonce } = await ocspRequestUrl(responder, certificate, issuer);
    const body = await fetchBytes(this.#policy, url, 'application/ocsp-response', {
      maxBytes: OCSP_MAX_BYTES,
      timeoutMs: this.#config.revocationTimeoutMs,
    });
    return readOcspAnswer(body, { certificate, issuer, nonce }, this.#anchors, now);
  }
}

/** The verifier, or undefined when no CA is configured and card login is off. */
export function createJpkiVerifier(
  config: JpkiConfig,
  policy: OutboundPolicy,
  options: JpkiVerifierOptions = {},
): JpkiVerifier | undefined {
  return config.caCertificates.length > 0 ? new JpkiVerifier(config, policy, options) : undefined;
}
