/**
 * Certification path validation (RFC 5280 §6) of a card's certificate to the configured JPKI CAs,
 * with pkijs' engine: signatures along the path, name chaining, CA constraints and every
 * certificate's validity period. Revocation is checked afterwards, by the verifier.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { JpkiError } from './errors.ts';

const KEY_USAGE = '2.5.29.15';
const BASIC_CONSTRAINTS = '2.5.29.19';
/** KeyUsage bit 0, the most significant bit of the first byte. */
const DIGITAL_SIGNATURE = 0x80;
/** pkijs' result code for a certificate of the path outside its validity period. */
const OUTSIDE_VALIDITY = 8;

/** Why a path did not validate, in the resident's terms: the card's certificate's dates, or trust. */
function pathFailure(certificate: pkijs.Certificate, resultCode: number | undefined, now: Date): JpkiError {
  if (resultCode === OUTSIDE_VALIDITY) {
    if (certificate.notAfter.value < now) {
      return new JpkiError('certificate-expired');
    }
    if (certificate.notBefore.value > now) {
      return new JpkiError('certificate-not-yet-valid');
    }
  }
  // The CA's own certificate out of its period lands here too: not the resident's card at fault.
  return new JpkiError('untrusted-certificate');
}

/** A login certificate is an end entity whose key may make digital signatures. */
function checkKeyUsage(certificate: pkijs.Certificate): void {
  const extensions = certificate.extensions ?? [];
  const usage = extensions.find((e) => e.extnID === KEY_USAGE)?.parsedValue;
  const basic = extensions.find((e) => e.extnID === BASIC_CONSTRAINTS)?.parsedValue;
  const bits = usage instanceof asn1js.BitString ? usage.valueBlock.valueHexView : undefined;
  const isCa = basic instanceof pkijs.BasicConstraints && basic.cA === true;
  if (!bits || ((bits[0] ?? 0) & DIGITAL_SIGNATURE) === 0 || isCa) {
    throw new JpkiError('wrong-key-usage');
  }
}

/**
 * Validates the path from `certificate` to one of `anchors` at `now` and returns the issuing CA.
 * @throws JpkiError untrusted-certificate, certificate-expired, certificate-not-yet-valid or wrong-key-usage
 */
export async function validatePath(
  certificate: pkijs.Certificate,
  anchors: pkijs.Certificate[],
  now: Date,
): Promise<pkijs.Certificate> {
  // The engine rewrites its own lists while it works: one engine per validation.
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: anchors,
    certs: [certificate],
    checkDate: now,
  });
  let result: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    result = await engine.verify();
  } catch (error) {
    const code = (error as { resultCode?: number }).resultCode;
    throw pathFailure(certificate, code, now);
  }
  const issuer = result.certificatePath?.[1];
  if (!result.result || !issuer) {
    throw pathFailure(certificate, result.resultCode, now);
  }
  checkKeyUsage(certificate);
  return issuer;
}
