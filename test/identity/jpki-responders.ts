/**
 * The test CA's CRL server and OCSP responder on 127.0.0.1 (port 0), answering from one shared
 * set of revoked serial numbers; each has a `mode` a test switches to make it misbehave.
 */
// @peculiar/x509 needs the Reflect metadata polyfill before it loads.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export const RSA_SHA256 = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
export const DAY = 86_400_000;

export interface TestCa {
  certificate: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  pem: string;
}

/** How a responder behaves; tests switch it. */
export type CrlMode = 'ok' | 'down' | 'error' | 'stale' | 'wrong-signer' | 'garbage' | 'hang';
export type OcspMode = 'ok' | 'down' | 'try-later' | 'unknown' | 'wrong-signer' | 'other-nonce' | 'stale';

export interface TestResponder<M> {
  url: string;
  mode: M;
  /** Requests received so far. */
  requests: number;
}

/** `lifetimeSeconds`: from a CRL's thisUpdate to its nextUpdate (default 3600). */
export type TestCrlServer = TestResponder<CrlMode> & { lifetimeSeconds: number };

/** Serial numbers as the responders compare them: lower-case hex without leading zero bytes. */
export const serialKey = (hex: string) => hex.toLowerCase().replace(/^(00)+/, '');

async function makeCrl(ca: TestCa, signer: TestCa, revoked: Set<string>, lifetimeSeconds: number) {
  const now = Date.now();
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.certificate.subject,
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + lifetimeSeconds * 1000),
    entries: [...revoked].map((serialNumber) => ({
      serialNumber,
      revocationDate: new Date(now - 3_600_000),
      reason: x509.X509CrlReason.keyCompromise,
    })),
    signingKey: signer.keys.privateKey,
    signingAlgorithm: RSA_SHA256,
  });
  return Buffer.from(crl.rawData);
}

const NONCE = '1.3.6.1.5.5.7.48.1.2';
const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'SHA-1', '2.16.840.1.101.3.4.2.1': 'SHA-256' };

/** good [0] NULL, revoked [1] { revocationTime }, unknown [2] NULL (RFC 6960 CertStatus). */
function certStatus(status: 'good' | 'revoked' | 'unknown') {
  if (status === 'revoked') {
    const time = new asn1js.GeneralizedTime({ valueDate: new Date(Date.now() - 3_600_000) });
    return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [time] });
  }
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: status === 'good' ? 0 : 2 } });
}

async function issuedByCa(certId: pkijs.CertID, ca: TestCa): Promise<boolean> {
  const hash = HASHES[certId.hashAlgorithm.algorithmId];
  if (!hash) {
    return false;
  }
  const issuer = pkijs.Certificate.fromBER(ca.certificate.rawData);
  const nameHash = await webcrypto.subtle.digest(hash, issuer.subject.toSchema().toBER());
  const keyHash = await webcrypto.subtle.digest(
    hash,
    issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView,
  );
  return (
    Buffer.from(nameHash).equals(Buffer.from(certId.issuerNameHash.valueBlock.valueHexView)) &&
    Buffer.from(keyHash).equals(Buffer.from(certId.issuerKeyHash.valueBlock.valueHexView))
  );
}

async function ocspAnswer(
  request: Uint8Array,
  ca: TestCa,
  foreign: TestCa,
  revoked: Set<string>,
  mode: OcspMode,
) {
  if (mode === 'try-later') {
    return Buffer.from(
      new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: 3 }) }).toSchema().toBER(),
    );
  }
  const parsed = pkijs.OCSPRequest.fromBER(request);
  const signer = mode === 'wrong-signer' ? foreign : ca;
  const signerCertificate = pkijs.Certificate.fromBER(signer.certificate.rawData);
  const now = Date.now();
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = signerCertificate.subject;
  basic.tbsResponseData.producedAt = new Date(now);
  for (const { reqCert } of parsed.tbsRequest.requestList) {
    const serial = Buffer.from(reqCert.serialNumber.valueBlock.valueHexView).toString('hex');
    const known = mode !== 'unknown' && (await issuedByCa(reqCert, ca));
    const status = !known ? 'unknown' : revoked.has(serialKey(serial)) ? 'revoked' : 'good';
    const stale = mode === 'stale' ? 2 * DAY : 0;
    basic.tbsResponseData.responses.push(
      new pkijs.SingleResponse({
        certID: reqCert,
        certStatus: certStatus(status),
        thisUpdate: new Date(now - 60_000 - stale),
        nextUpdate: new Date(now + 3_600_000 - stale),
      }),
    );
  }
  const nonce = parsed.tbsRequest.requestExtensions?.find((e) => e.extnID === NONCE);
  if (nonce) {
    const echoed =
      mode === 'other-nonce' ? new asn1js.OctetString({ valueHex: randomBytes(16) }).toBER() : undefined;
    basic.tbsResponseData.responseExtensions = [
      echoed ? new pkijs.Extension({ extnID: NONCE, extnValue: echoed }) : nonce,
    ];
  }
  basic.certs = [signerCertificate];
  await basic.sign(signer.keys.privateKey, 'SHA-256');
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: '1.3.6.1.5.5.7.48.1.1',
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
    }),
  });
  return Buffer.from(response.toSchema().toBER());
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface Running<R> {
  responder: R;
  close(): Promise<void>;
}

async function start<R>(
  make: (url: string) => R,
  handle: (r: R) => http.RequestListener,
): Promise<Running<R>> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const responder = make(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  server.on('request', handle(responder));
  return {
    responder,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The CA's CRL, made afresh on every request so a revocation shows at once. */
export function startCrlServer(ca: TestCa, foreign: TestCa, revoked: Set<string>) {
  return start<TestCrlServer>(
    (base) => ({ url: `${base}/crl/user-auth.crl`, mode: 'ok', requests: 0, lifetimeSeconds: 3600 }),
    (crl) => async (request, response) => {
      crl.requests++;
      if (crl.mode === 'down') return request.socket.destroy();
      if (crl.mode === 'hang') return;
      if (crl.mode === 'error') return response.writeHead(500).end();
      const lifetime = crl.mode === 'stale' ? -60 : crl.lifetimeSeconds;
      const body =
        crl.mode === 'garbage'
          ? randomBytes(512)
          : await makeCrl(ca, crl.mode === 'wrong-signer' ? foreign : ca, revoked, lifetime);
      response.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
    },
  );
}

/** An OCSP responder answering for the CA, signed with the CA's own key. */
export function startOcspResponder(ca: TestCa, foreign: TestCa, revoked: Set<string>) {
  return start<TestResponder<OcspMode>>(
    (base) => ({ url: `${base}/ocsp`, mode: 'ok', requests: 0 }),
    (ocsp) => async (request, response) => {
      ocsp.requests++;
      if (ocsp.mode === 'down') return request.socket.destroy();
      // RFC 6960 A.1: POST with the DER body, or GET with it base64 in the path.
      const der =
        request.method === 'POST'
          ? await readBody(request)
          : Buffer.from(decodeURIComponent(request.url?.slice('/ocsp/'.length) ?? ''), 'base64');
      try {
        const body = await ocspAnswer(der, ca, foreign, revoked, ocsp.mode);
        response.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
      } catch {
        response.writeHead(400).end();
      }
    },
  );
}
