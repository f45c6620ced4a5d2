/**
 * Revocation by OCSP (RFC 6960): one question about one certificate to the configured responder
 * (J-LIS's, or a platform operator's). The answer counts only when the CA, or a responder the CA
 * delegated to, signed it, it is about this certificate, and it is current.
 */
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseDer } from './der.ts';

export type OcspStatus = 'good' | 'revoked' | 'unknown';

export interface OcspAnswer {
  status: OcspStatus;
  /** When the responder signed the answer. */
  producedAt: Date;
}

const NONCE = '1.3.6.1.5.5.7.48.1.2';
const BASIC_RESPONSE = '1.3.6.1.5.5.7.48.1.1';
const SKEW_MS = 5 * 60_000;
/** An answer without nextUpdate and without our nonce is still accepted when this recent. */
const MAX_AGE_MS = 24 * 3600_000;
const STATUSES: OcspStatus[] = ['good', 'revoked', 'unknown'];

/**
 * The request, as the URL of a GET (RFC 6960 Appendix A.1): the platform's outbound client sends
 * text bodies only, and a request for one certificate is short enough for a URL.
 */
export async function ocspRequestUrl(
  responder: string,
  certificate: pkijs.Certificate,
  issuer: pkijs.Certificate,
): Promise<{ url: string; nonce: Uint8Array }> {
  const request = new pkijs.OCSPRequest();
  // SHA-1 in the CertID is what every responder understands; it identifies, it does not protect.
  await request.createForCertificate(certificate, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer });
  const nonce = new Uint8Array(new asn1js.OctetString({ valueHex: randomBytes(16) }).toBER());
  request.tbsRequest.requestExtensions = [new pkijs.Extension({ extnID: NONCE, extnValue: nonce.buffer })];
  const der = Buffer.from(request.toSchema(true).toBER());
  return { url: `${responder.replace(/\/+$/, '')}/${encodeURIComponent(der.toString('base64'))}`, nonce };
}

function basicResponse(body: Uint8Array): pkijs.BasicOCSPResponse {
  const response = parseDer(body, (schema) => new pkijs.OCSPResponse({ schema }));
  if (!response) {
    throw new Error('the OCSP answer is not an OCSPResponse');
  }
  const status = response.responseStatus.valueBlock.valueDec;
  if (status !== 0 || !response.responseBytes) {
    throw new Error(`the OCSP responder answered status ${status} instead of successful`);
  }
  if (response.responseBytes.responseType !== BASIC_RESPONSE) {
    throw new Error('the OCSP answer is not a basic response');
  }
  const basic = parseDer(
    response.responseBytes.response.valueBlock.valueHexView,
    (schema) => new pkijs.BasicOCSPResponse({ schema }),
  );
  if (!basic) {
    throw new Error('the OCSP answer holds a malformed basic response');
  }
  return basic;
}

function checkFreshness(basic: pkijs.BasicOCSPResponse, nonce: Uint8Array, now: Date): void {
  const echoed = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === NONCE);
  if (echoed && !Buffer.from(echoed.extnValue.valueBlock.valueHexView).equals(nonce)) {
    throw new Error('the OCSP answer carries another request’s nonce');
  }
  const t = now.getTime();
  for (const single of basic.tbsResponseData.responses) {
    if (single.thisUpdate.getTime() > t + SKEW_MS) {
      throw new Error('the OCSP answer is dated in the future');
    }
    const stale = single.nextUpdate
      ? single.nextUpdate.getTime() < t - SKEW_MS
      : !echoed && single.thisUpdate.getTime() < t - MAX_AGE_MS;
    if (stale) {
      throw new Error('the OCSP answer is out of date');
    }
  }
}

/**
 * Checks an OCSP answer (the DER body) about `certificate`.
 * @throws Error when the answer cannot be trusted or is not about this certificate
 */
export async function readOcspAnswer(
  body: Uint8Array,
  request: { certificate: pkijs.Certificate; issuer: pkijs.Certificate; nonce: Uint8Array },
  anchors: pkijs.Certificate[],
  now: Date,
): Promise<OcspAnswer> {
  const basic = basicResponse(body);
  // A CA signing its own answers may leave its certificate out; pkijs needs it listed.
  if (!basic.certs || basic.certs.length === 0) {
    basic.certs = [request.issuer];
  }
  const signed = await basic.verify({ trustedCerts: anchors }).catch((error: Error) => {
    throw new Error(`the OCSP answer's signer is not trusted: ${error.message}`);
  });
  if (!signed) {
    throw new Error('the OCSP answer has a bad signature');
  }
  checkFreshness(basic, request.nonce, now);
  const found = await basic.getCertificateStatus(request.certificate, request.issuer);
  if (!found.isForCertificate) {
    throw new Error('the OCSP answer is about another certificate');
  }
  return { status: STATUSES[found.status] ?? 'unknown', producedAt: basic.tbsResponseData.producedAt };
}
