/**
 * A test JPKI: a root CA shaped like J-LIS's user-authentication CA, "cards" (a certificate and the
 * key that signs like the card's user-authentication key), and the CA's CRL server and OCSP
 * responder on 127.0.0.1, speaking the real protocols. For unit and end-to-end login tests:
 *
 *   const jpki = await makeTestJpki();
 *   const config = jpkiConfig({ caCertificates: jpki.caPem, ocspUrl: jpki.ocspUrl });
 *   const input = await jpki.cards.good.answer(await issueChallenge(db));  // { challengeId, signature, certificate }
 *   ...
 *   await jpki.close();
 */
// @peculiar/x509 needs the Reflect metadata polyfill before it loads.
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import {
  DAY,
  type OcspMode,
  RSA_SHA256,
  serialKey,
  startCrlServer,
  startOcspResponder,
  type TestCa,
  type TestCrlServer,
  type TestResponder,
} from './jpki-responders.ts';

export type { CrlMode, OcspMode, TestCa, TestCrlServer, TestResponder } from './jpki-responders.ts';

/** The DN of the test CA: J-LIS's, with O=JPKI-TEST so it can never be mistaken for the real one. */
export const TEST_CA_NAME = 'C=JP, O=JPKI-TEST, OU=JPKI for user authentication';

/** A My Number Card as the verifier sees it: its user-authentication certificate and key. */
export interface TestCard {
  /** The certificate, base64 DER, as a card front end sends it. */
  certificate: string;
  pem: string;
  /** Hex serial number. */
  serialNumber: string;
  /** The subject's CN (an opaque string, as on real cards): must never show up in results. */
  subjectCn: string;
  /** hex SHA-256 of (issuer Name DER ‖ serial number bytes), computed here independently. */
  bindingHash: string;
  /** base64 RSASSA-PKCS1-v1_5/SHA-256 over the bytes, as the card signs with PIN entered. */
  sign(bytes: Uint8Array): Promise<string>;
  /** The login input answering an issued challenge. */
  answer(challenge: { id: string; challenge: string }): Promise<{
    challengeId: string;
    signature: string;
    certificate: string;
  }>;
}

export interface TestJpki {
  caPem: string;
  /** A CA with the same name as the trusted one but another key: nobody trusts it. */
  foreignCaPem: string;
  cards: {
    good: TestCard;
    other: TestCard;
    revoked: TestCard;
    expired: TestCard;
    notYetValid: TestCard;
    /** Its key usage is keyEncipherment only. */
    noSigning: TestCard;
    /** Issued by the foreign CA. */
    foreign: TestCard;
  };
  crlUrl: string;
  ocspUrl: string;
  /** `lifetimeSeconds`: from a CRL's thisUpdate to its nextUpdate (default 3600). */
  crl: TestCrlServer;
  ocsp: TestResponder<OcspMode>;
  /** Issues another good card. */
  newCard(): Promise<TestCard>;
  /** Puts the card on the CRL and makes the OCSP responder answer revoked. */
  revoke(card: TestCard): void;
  close(): Promise<void>;
}

async function makeCa(): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(RSA_SHA256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    name: TEST_CA_NAME,
    notBefore: new Date(Date.now() - 5 * 365 * DAY),
    notAfter: new Date(Date.now() + 10 * 365 * DAY),
    signingAlgorithm: RSA_SHA256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, pem: certificate.toString('pem') };
}

/** SHA-256 of the issuer Name's DER and the serial's bytes, read with asn1js alone. */
function expectedBindingHash(der: ArrayBuffer): string {
  const certificate = asn1js.fromBER(der).result as asn1js.Sequence;
  const tbs = (certificate.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
  const start = tbs[0]?.idBlock.tagClass === 3 ? 1 : 0; // skip [0] version
  const serial = tbs[start] as asn1js.Integer;
  const issuer = tbs[start + 2] as asn1js.Sequence;
  return createHash('sha256')
    .update(issuer.valueBeforeDecodeView)
    .update(serial.valueBlock.valueHexView)
    .digest('hex');
}

interface CardOptions {
  notBefore?: Date;
  notAfter?: Date;
  usage?: x509.KeyUsageFlags;
}

async function makeCard(ca: TestCa, crlUrl: string, options: CardOptions = {}): Promise<TestCard> {
  const keys = (await webcrypto.subtle.generateKey(RSA_SHA256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const subjectCn = randomBytes(12).toString('hex').toUpperCase();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: `C=JP, CN=${subjectCn}`,
    issuer: ca.certificate.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 5 * 365 * DAY),
    signingAlgorithm: RSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.KeyUsagesExtension(options.usage ?? x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
      new x509.CRLDistributionPointsExtension([crlUrl]),
    ],
  });
  const sign = async (bytes: Uint8Array) =>
    Buffer.from(await webcrypto.subtle.sign(RSA_SHA256, keys.privateKey, bytes)).toString('base64');
  return {
    certificate: Buffer.from(certificate.rawData).toString('base64'),
    pem: certificate.toString('pem'),
    serialNumber: certificate.serialNumber,
    subjectCn,
    bindingHash: expectedBindingHash(certificate.rawData),
    sign,
    async answer(challenge) {
      return {
        challengeId: challenge.id,
        signature: await sign(Buffer.from(challenge.challenge, 'base64url')),
        certificate: Buffer.from(certificate.rawData).toString('base64'),
      };
    },
  };
}

/** Makes the test CA, its cards and its responders; call `close()` when done. */
export async function makeTestJpki(): Promise<TestJpki> {
  const [ca, foreign] = await Promise.all([makeCa(), makeCa()]);
  const revoked = new Set<string>();
  const [crl, ocsp] = await Promise.all([
    startCrlServer(ca, foreign, revoked),
    startOcspResponder(ca, foreign, revoked),
  ]);
  const url = crl.responder.url;
  const revoke = (card: TestCard) => void revoked.add(serialKey(card.serialNumber));
  const [good, other, revokedCard, expired, notYetValid, noSigning, foreignCard] = await Promise.all([
    makeCard(ca, url),
    makeCard(ca, url),
    makeCard(ca, url),
    makeCard(ca, url, {
      notBefore: new Date(Date.now() - 800 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    }),
    makeCard(ca, url, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 800 * DAY) }),
    makeCard(ca, url, { usage: x509.KeyUsageFlags.keyEncipherment }),
    makeCard(foreign, url),
  ]);
  revoke(revokedCard);
  return {
    caPem: ca.pem,
    foreignCaPem: foreign.pem,
    cards: { good, other, revoked: revokedCard, expired, notYetValid, noSigning, foreign: foreignCard },
    crlUrl: url,
    ocspUrl: ocsp.responder.url,
    crl: crl.responder,
    ocsp: ocsp.responder,
    newCard: () => makeCard(ca, url),
    revoke,
    async close() {
      await Promise.all([crl.close(), ocsp.close()]);
    },
  };
}
