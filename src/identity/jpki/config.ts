/**
 * Settings of My Number Card login (JPKI 利用者証明用電子証明書: the card's user-authentication
 * certificate), validated at start with the other capabilities'. No trusted CA: card login is off.
 */
import fs from 'node:fs';
import * as pkijs from 'pkijs';
import { BadValue, type ConfigOption, integer, readOptions, url } from '../../platform/index.ts';
import { parseDer, pemBlocks } from './der.ts';

export interface JpkiConfig {
  /** PEM text of the trusted CA certificates (one or more per string); empty: card login is off. */
  caCertificates: string[];
  /** OCSP responder asked first; the certificate's CRL is the fallback. Unset: CRL only. */
  ocspUrl: string | undefined;
  /** How long a resident has to sign a challenge with the card. */
  challengeSeconds: number;
  /** Largest CRL accepted. */
  crlMaxBytes: number;
  /** How long one OCSP answer or CRL download may take, connection and body together. */
  revocationTimeoutMs: number;
}

const DEFAULTS = {
  ocspUrl: undefined,
  challengeSeconds: 300,
  // Generous for a CA's full CRL, small enough that a wrong URL cannot exhaust memory.
  crlMaxBytes: 32 * 1024 * 1024,
  revocationTimeoutMs: 15_000,
} satisfies Omit<JpkiConfig, 'caCertificates'>;

/**
 * Problems of one PEM text meant as trusted CA certificates, or none. A leaf or garbage here
 * would make every login fail, so it is refused at start instead.
 */
export function caCertificateProblem(pem: string): string | undefined {
  const blocks = pemBlocks(pem, 'CERTIFICATE');
  if (blocks.length === 0) {
    return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  }
  for (const der of blocks) {
    const certificate = parseDer(der, (schema) => new pkijs.Certificate({ schema }));
    if (!certificate) {
      return 'holds a PEM block that is not an X.509 certificate';
    }
    const basic = certificate.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue;
    if (!(basic instanceof pkijs.BasicConstraints) || basic.cA !== true) {
      return 'holds a certificate that is not a CA certificate (basicConstraints cA)';
    }
  }
  return undefined;
}

function readCaFiles(raw: string): string[] {
  const paths = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return paths.map((file) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new BadValue(`cannot be read: ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const problem = caCertificateProblem(text);
    if (problem) {
      throw new BadValue(`names ${file}, which ${problem}`);
    }
    return text;
  });
}

export const jpkiOptions: readonly ConfigOption<JpkiConfig>[] = [
  {
    env: 'JPKI_CA_CERTS',
    key: 'caCertificates',
    description:
      'Comma-separated PEM files of the trusted JPKI CA certificates for user authentication (J-LIS); empty: My Number Card login is off',
    default: '',
    parse: readCaFiles,
  },
  {
    env: 'JPKI_OCSP_URL',
    key: 'ocspUrl',
    description:
      'OCSP responder for JPKI certificates (a platform operator’s validity service); unset: the CRL of each certificate is fetched',
    default: undefined,
    parse: url(['http:', 'https:']),
  },
  {
    env: 'JPKI_CHALLENGE_SECONDS',
    key: 'challengeSeconds',
    description: 'How long a resident has to sign a login challenge with the My Number Card, in seconds',
    default: String(DEFAULTS.challengeSeconds),
    parse: integer(30, 3600),
  },
  {
    env: 'JPKI_CRL_MAX_BYTES',
    key: 'crlMaxBytes',
    description: 'Largest JPKI certificate revocation list (CRL) accepted, in bytes',
    default: String(DEFAULTS.crlMaxBytes),
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    env: 'JPKI_REVOCATION_TIMEOUT_MS',
    key: 'revocationTimeoutMs',
    description: 'How long one OCSP answer or CRL download may take, in milliseconds',
    default: String(DEFAULTS.revocationTimeoutMs),
    parse: integer(500, 300_000),
  },
];

/**
 * Reads the settings from `env` (JPKI_CA_CERTS names files, read here).
 * @throws ConfigError listing every bad value at once
 */
export function loadJpkiConfig(env: Record<string, string | undefined>): JpkiConfig {
  return readOptions(jpkiOptions, env);
}

/**
 * The settings given directly, with PEM text instead of file names (tests, embedding).
 * @throws Error when a CA certificate is not usable
 */
export function jpkiConfig(
  given: Partial<Omit<JpkiConfig, 'caCertificates'>> & { caCertificates: string | string[] },
): JpkiConfig {
  const caCertificates =
    typeof given.caCertificates === 'string' ? [given.caCertificates] : given.caCertificates;
  for (const pem of caCertificates) {
    const problem = caCertificateProblem(pem);
    if (problem) {
      throw new Error(`a JPKI CA certificate ${problem}`);
    }
  }
  return {
    caCertificates,
    ocspUrl: given.ocspUrl ?? DEFAULTS.ocspUrl,
    challengeSeconds: given.challengeSeconds ?? DEFAULTS.challengeSeconds,
    crlMaxBytes: given.crlMaxBytes ?? DEFAULTS.crlMaxBytes,
    revocationTimeoutMs: given.revocationTimeoutMs ?? DEFAULTS.revocationTimeoutMs,
  };
}
