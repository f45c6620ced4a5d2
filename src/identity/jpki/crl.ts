/**
 * Revocation by CRL (失効リスト): the certificate's own distribution point, fetched under the
 * outbound policy, its signature checked against the issuing CA and used only until its
 * nextUpdate. One download serves every login until then; concurrent logins share it.
 */
import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import { parseDer, pemBlocks, serialHex } from './der.ts';

/** What remains of a verified CRL: the revoked serial numbers, and its period. */
interface CheckedCrl {
  revoked: Set<string>;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface CrlAnswer {
  revoked: boolean;
  /** When the CA issued the CRL that answered (its thisUpdate). */
  producedAt: Date;
}

const CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
/** Clocks of the CA and ours may differ a little. */
const SKEW_MS = 5 * 60_000;
/** JPKI has a handful of CAs and URLs; the bound only guards against a misbehaving CA. */
const MAX_CACHED = 32;

/** The http(s) CRL distribution points of a certificate (an ldap:// one cannot be fetched here). */
export function crlUrls(certificate: pkijs.Certificate): string[] {
  const extension = certificate.extensions?.find((e) => e.extnID === CRL_DISTRIBUTION_POINTS);
  const points =
    extension?.parsedValue instanceof pkijs.CRLDistributionPoints ? extension.parsedValue : undefined;
  return (points?.distributionPoints ?? []).flatMap((point) =>
    Array.isArray(point.distributionPoint)
      ? point.distributionPoint
          .filter((name) => name.type === 6 && /^https?:\/\//i.test(String(name.value)))
          .map((name) => String(name.value))
      : [],
  );
}

function keyId(certificate: pkijs.Certificate): string {
  const key = certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return createHash('sha256').update(key).digest('hex');
}

export class CrlCache {
  readonly #fetch: (url: string) => Promise<Uint8Array>;
  readonly #checked = new Map<string, CheckedCrl>();
  readonly #loading = new Map<string, Promise<CheckedCrl>>();

  constructor(fetch: (url: string) => Promise<Uint8Array>) {
    this.#fetch = fetch;
  }

  /**
   * Whether `certificate` is on the current CRL of `issuer`.
   * @throws Error when no distribution point gives a current, correctly signed CRL
   */
  async check(certificate: pkijs.Certificate, issuer: pkijs.Certificate, now: Date): Promise<CrlAnswer> {
    const urls = crlUrls(certificate);
    if (urls.length === 0) {
      throw new Error('the certificate names no http(s) CRL distribution point');
    }
    const problems: string[] = [];
    for (const url of urls) {
      try {
        const crl = await this.#current(url, issuer, now);
        return { revoked: crl.revoked.has(serialHex(certificate.serialNumber)), producedAt: crl.thisUpdate };
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    throw new Error(`no usable CRL: ${problems.join('; ')}`);
  }

  async #current(url: string, issuer: pkijs.Certificate, now: Date): Promise<CheckedCrl> {
    // Keyed by the CA's key too: a CRL checked against one CA is never used for another.
    const key = `${keyId(issuer)} ${url}`;
    const cached = this.#checked.get(key);
    if (cached && cached.nextUpdate > now) {
      return cached;
    }
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(url, issuer, now).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    const crl = await loading;
    this.#checked.delete(key);
    if (this.#checked.size >= MAX_CACHED) {
      this.#checked.delete(this.#checked.keys().next().value as string);
    }
    this.#checked.set(key, crl);
    return crl;
  }

  async #load(url: string, issuer: pkijs.Certificate, now: Date): Promise<CheckedCrl> {
    const body = await this.#fetch(url);
    const text = Buffer.from(body.subarray(0, 16)).toString('latin1');
    const der = text.startsWith('-----BEGIN')
      ? pemBlocks(Buffer.from(body).toString('latin1'), 'X509 CRL')[0]
      : body;
    const crl = der && parseDer(der, (schema) => new pkijs.CertificateRevocationList({ schema }));
    if (!crl) {
      throw new Error(`${url} is not a CRL`);
    }
    await checkCrl(crl, issuer, now, url);
    return {
      revoked: new Set((crl.revokedCertificates ?? []).map((entry) => serialHex(entry.userCertificate))),
      thisUpdate: crl.thisUpdate.value,
      nextUpdate: (crl.nextUpdate as pkijs.Time).value,
    };
  }
}

/** A CRL is used only when the issuer signed it, it is current, and it is a complete list. */
async function checkCrl(
  crl: pkijs.CertificateRevocationList,
  issuer: pkijs.Certificate,
  now: Date,
  url: string,
): Promise<void> {
  if (!crl.issuer.isEqual(issuer.subject)) {
    throw new Error(`the CRL at ${url} is not issued by the certificate's CA`);
  }
  if (!(await crl.verify({ issuerCertificate: issuer }).catch(() => false))) {
    throw new Error(`the CRL at ${url} has a bad signature`);
  }
  if (crl.thisUpdate.value.getTime() > now.getTime() + SKEW_MS) {
    throw new Error(`the CRL at ${url} is issued in the future`);
  }
  if (!crl.nextUpdate || crl.nextUpdate.value <= now) {
    throw new Error(`the CRL at ${url} is out of date (nextUpdate has passed)`);
  }
  for (const extension of crl.crlExtensions?.extensions ?? []) {
    const problem = extensionProblem(extension);
    if (problem) {
      throw new Error(`the CRL at ${url} ${problem}`);
    }
  }
}

/**
 * Why an extension makes a CRL unfit to clear an end-entity certificate: a delta CRL lists only
 * changes, and a scope limited to some reasons, to CA certificates or to another issuer's
 * certificates leaves ours possibly unlisted. A partition by distribution point is fine: the
 * certificate named this very one.
 */
function extensionProblem(extension: pkijs.Extension): string | undefined {
  if (extension.extnID === DELTA_CRL_INDICATOR) {
    return 'is a delta CRL, not a complete list';
  }
  if (extension.extnID === ISSUING_DISTRIBUTION_POINT) {
    const scope = extension.parsedValue;
    const limited =
      !(scope instanceof pkijs.IssuingDistributionPoint) ||
      scope.onlySomeReasons !== undefined ||
      scope.onlyContainsCACerts ||
      scope.onlyContainsAttributeCerts ||
      scope.indirectCRL;
    return limited ? 'covers only part of the revocations (issuingDistributionPoint)' : undefined;
  }
  return extension.critical
    ? `has a critical extension Machi does not know (${extension.extnID})`
    : undefined;
}
