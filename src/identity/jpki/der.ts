/**
 * Reading what a card front end sends (base64, PEM, DER) and the few facts taken from a
 * certificate: its issuer as text, its serial number, and the hash that binds it to an account.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Standard or URL-safe base64, line breaks allowed; undefined when the text is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) {
    return undefined;
  }
  const bytes = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length > 0 ? new Uint8Array(bytes) : undefined;
}

/** The DER of every `-----BEGIN <label>-----` block in `text`, in order. */
export function pemBlocks(text: string, label: string): Uint8Array[] {
  const blocks = text.matchAll(new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`, 'g'));
  return [...blocks].flatMap(([, body]) => decodeBase64(body ?? '') ?? []);
}

/** Parses one DER structure with nothing after it; undefined when it is not one. */
export function parseDer<T>(der: Uint8Array, make: (schema: asn1js.AsnType) => T): T | undefined {
  const view = new Uint8Array(der);
  const asn1 = asn1js.fromBER(view);
  if (asn1.offset !== view.byteLength) {
    return undefined;
  }
  try {
    return make(asn1.result);
  } catch {
    return undefined;
  }
}

/** A certificate sent as PEM or as base64 DER; undefined when it is neither. */
export function parseCertificate(text: string): pkijs.Certificate | undefined {
  const der = text.includes('-----BEGIN') ? pemBlocks(text, 'CERTIFICATE')[0] : decodeBase64(text);
  return der && parseDer(der, (schema) => new pkijs.Certificate({ schema }));
}

/** Short names of the attributes JPKI and most CAs use; any other shows as its OID. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** A name as `C=JP, O=JPKI, OU=…`, in the order the certificate lists it. */
export function nameText(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`)
    .join(', ');
}

/** The name exactly as the certificate encodes it, so the hash does not depend on a re-encoding. */
export function nameDer(name: pkijs.RelativeDistinguishedNames): Uint8Array {
  return name.valueBeforeDecode.byteLength > 0
    ? new Uint8Array(name.valueBeforeDecode)
    : new Uint8Array(name.toSchema().toBER());
}

/** A serial number as hex without leading zero bytes, so a CRL's and a certificate's compare equal. */
export function serialHex(serial: asn1js.Integer): string {
  return Buffer.from(serial.valueBlock.valueHexView)
    .toString('hex')
    .replace(/^(00)+(?=.)/, '');
}

/**
 * hex SHA-256 of (issuer Name DER ‖ serial number bytes): names one certificate without keeping
 * it. A renewed card has a new serial number, hence a new hash.
 */
export function bindingHash(certificate: pkijs.Certificate): string {
  return createHash('sha256')
    .update(nameDer(certificate.issuer))
    .update(certificate.serialNumber.valueBlock.valueHexView)
    .digest('hex');
}
