/**
 * Configuration: every setting comes from an environment variable, described once here,
 * validated once at start. A bad value is reported with the variable's name and what it accepts,
 * and all problems are reported together.
 */
import path from 'node:path';
import { type OutboundRule, parseOutboundAllow } from './outbound/policy.ts';
import { parseMasterKey } from './secret-box.ts';

export interface PlatformConfig {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
  corsOrigins: string[];
  trustProxy: boolean;
  jobsPollIntervalMs: number;
  jobsConcurrency: number;
  jobsLeaseSeconds: number;
  demoData: boolean;
  production: boolean;
  /** Whether Machi may call private and other special-purpose addresses for clients (outbound/policy.ts). */
  outboundPrivate: 'deny' | 'allow';
  /** Hosts and networks Machi may call although they are private. */
  outboundAllow: OutboundRule[];
  /** The master key that seals secrets at rest (secret-box.ts); unset: kept in DATA_DIR (embedded only). */
  secretKey: Buffer | undefined;
  /** Master keys wrapping the tenants' data keys (envelope.ts), newest first; empty: derived from secretKey. */
  dataMasterKeys: Buffer[];
  /** Whom push services contact about our pushes (RFC 8292 `sub`); unset: derived from publicUrl. */
  vapidSubject: string | undefined;
}

/** One setting of a capability: its environment variable, what it means, its default and its parser. */
export interface ConfigOption<C, K extends keyof C = keyof C> {
  env: string;
  key: K;
  description: string;
  default: string | undefined;
  parse: (raw: string) => C[K];
  /** Returns a warning when the value is unsafe in production. */
  unsafe?: (value: C[K], config: C) => string | undefined;
}

type Option<K extends keyof PlatformConfig> = ConfigOption<PlatformConfig, K>;

/** A value that cannot be used; its message says what would be accepted. */
export class BadValue extends Error {}

export function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) {
      throw new BadValue(`must be a whole number between ${min} and ${max}`);
    }
    const n = Number(raw);
    if (n < min || n > max) {
      throw new BadValue(`must be between ${min} and ${max}`);
    }
    return n;
  };
}

export function boolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) {
    return true;
  }
  if (['0', 'false', 'no', 'off'].includes(v)) {
    return false;
  }
  throw new BadValue('must be true or false');
}

export function url(protocols: string[]) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new BadValue(`must be a URL (${protocols.join(' or ')})`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new BadValue(`must start with ${protocols.join(' or ')}`);
    }
    return raw.replace(/\/+$/, '');
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The platform's options, in the order `.env.example` and the README list them. */
export const platformOptions = [
  { env: 'PORT', key: 'port', description: 'HTTP port', default: '8080', parse: integer(0, 65535) },
  {
    env: 'HOST',
    key: 'host',
    description: 'Address to listen on (0.0.0.0 to accept connections from other machines)',
    default: '127.0.0.1',
    parse: (raw) => raw.trim(),
  },
  {
    env: 'PUBLIC_URL',
    key: 'publicUrl',
    description: 'The URL residents and services use to reach Machi (default http://localhost:PORT)',
    default: undefined,
    parse: url(['http:', 'https:']),
  },
  {
    env: 'DATA_DIR',
    key: 'dataDir',
    description: 'Folder for the embedded database and stored files',
    default: './data',
    parse: (raw) => path.resolve(raw),
  },
  {
    env: 'DATABASE_URL',
    key: 'databaseUrl',
    description:
      'PostgreSQL server with PostGIS (postgres://user@host:5432/db); unset means the embedded database',
    default: undefined,
    parse: url(['postgres:', 'postgresql:']),
  },
  {
    env: 'DATABASE_POOL_SIZE',
    key: 'databasePoolSize',
    description: 'Connections per process to the PostgreSQL server',
    default: '10',
    parse: integer(1, 200),
  },
  {
    env: 'LOG_LEVEL',
    key: 'logLevel',
    description: `Log level: ${LOG_LEVELS.join(', ')}`,
    default: 'info',
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      const level = LOG_LEVELS.find((l) => l === v);
      if (!level) {
        throw new BadValue(`must be one of ${LOG_LEVELS.join(', ')}`);
      }
      return level;
    },
  },
  {
    env: 'BODY_LIMIT',
    key: 'bodyLimit',
    description: 'Largest request body accepted, in bytes',
    default: '1048576',
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    env: 'RATE_LIMIT_MAX',
    key: 'rateLimitMax',
    description: 'Requests allowed per client address in one window (0 turns rate limiting off)',
    default: '600',
    parse: integer(0, 10_000_000),
    unsafe: (v) => (v === 0 ? 'rate limiting is off (RATE_LIMIT_MAX=0)' : undefined),
  },
  {
    env: 'RATE_LIMIT_WINDOW',
    key: 'rateLimitWindowSeconds',
    description: 'Length of the rate-limit window, in seconds',
    default: '60',
    parse: integer(1, 86_400),
  },
  {
    env: 'CORS_ORIGINS',
    key: 'corsOrigins',
    description: 'Comma-separated origins allowed to call the API from a browser (empty: CORS off)',
    default: '',
    parse: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((origin) => url(['http:', 'https:'])(origin)),
  },
  {
    env: 'TRUST_PROXY',
    key: 'trustProxy',
    description: 'Trust X-Forwarded-* headers from a reverse proxy in front of Machi',
    default: 'false',
    parse: boolean,
  },
  {
    env: 'JOBS_POLL_INTERVAL_MS',
    key: 'jobsPollIntervalMs',
    description: 'How often an idle worker looks for due jobs, in milliseconds',
    default: '1000',
    parse: integer(10, 60_000),
  },
  {
    env: 'JOBS_CONCURRENCY',
    key: 'jobsConcurrency',
    description: 'Jobs one worker process runs at the same time',
    default: '4',
    parse: integer(1, 256),
  },
  {
    env: 'JOBS_LEASE_SECONDS',
    key: 'jobsLeaseSeconds',
    description:
      'A running job whose worker stops renewing it for this long is taken again by another worker',
    default: '30',
    parse: integer(1, 3600),
  },
  {
    env: 'DEMO_DATA',
    key: 'demoData',
    description: 'Load demo tenants, residents and a staff account into an empty database at start',
    default: 'true',
    parse: boolean,
    unsafe: (v, c) => (v && c.production ? 'demo data is on (DEMO_DATA=true) in production' : undefined),
  },
  {
    env: 'NODE_ENV',
    key: 'production',
    description: 'production turns on production checks; anything else is development',
    default: 'development',
    parse: (raw) => raw.trim() === 'production',
  },
  {
    env: 'OUTBOUND_PRIVATE',
    key: 'outboundPrivate',
    description:
      'allow lets clients make Machi call private, loopback and other non-public addresses (notification endpoints, @context URLs); link-local ones need OUTBOUND_ALLOW',
    default: 'deny',
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      if (v !== 'deny' && v !== 'allow') {
        throw new BadValue('must be deny or allow');
      }
      return v;
    },
    unsafe: (v) =>
      v === 'allow'
        ? 'OUTBOUND_PRIVATE=allow: clients may make Machi call addresses on its own machine and network'
        : undefined,
  },
  {
    env: 'OUTBOUND_ALLOW',
    key: 'outboundAllow',
    description:
      'Comma-separated hosts, host:port, addresses and CIDRs Machi may call although they are not public (localhost:9000,10.1.0.0/16)',
    default: '',
    parse: (raw) => {
      try {
        return parseOutboundAllow(raw);
      } catch (error) {
        throw new BadValue((error as Error).message);
      }
    },
  },
  {
    env: 'MACHI_SECRET_KEY',
    key: 'secretKey',
    description:
      'Master key sealing secrets stored in the database (signing keys, TOTP seeds): 32 random bytes, base64 (openssl rand -base64 32). Required with DATABASE_URL; unset with the embedded database, one is made in DATA_DIR',
    default: undefined,
    parse: (raw) => {
      try {
        return parseMasterKey(raw);
      } catch (error) {
        throw new BadValue((error as Error).message);
      }
    },
  },
  {
    env: 'MACHI_DATA_MASTER_KEYS',
    key: 'dataMasterKeys',
    description:
      "Master keys wrapping each municipality's data key, which encrypts 要配慮個人情報 at rest: comma-separated, newest first, each 32 random bytes, base64. The first wraps; the others, and the key derived from MACHI_SECRET_KEY, still unwrap. Empty: the key derived from MACHI_SECRET_KEY wraps. To rotate, put a new key first and restart: data keys are rewrapped at start",
    default: '',
    parse: (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((key, i) => {
          try {
            return parseMasterKey(key);
          } catch (error) {
            throw new BadValue(`key ${i + 1}: ${(error as Error).message}`);
          }
        }),
  },
  {
    env: 'VAPID_SUBJECT',
    key: 'vapidSubject',
    description:
      'Contact Web Push services are given with every push (VAPID subject): a mailto: address or an https: URL. Unset: PUBLIC_URL when it is https, else mailto:webpush@ and the host name of PUBLIC_URL',
    default: undefined,
    parse: url(['mailto:', 'https:']),
  },
] as const satisfies readonly Option<keyof PlatformConfig>[];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads one capability's options from `env`.
 * @throws ConfigError listing every bad value at once
 */
export function readOptions<C>(
  options: readonly ConfigOption<C>[],
  env: Record<string, string | undefined>,
): C {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const option of options) {
    const given = env[option.env];
    const raw =
      given === undefined || (given.trim() === '' && option.default !== undefined) ? option.default : given;
    if (raw === undefined) {
      values[option.key as string] = undefined;
      continue;
    }
    try {
      values[option.key as string] = option.parse(raw);
    } catch (error) {
      if (!(error instanceof BadValue)) {
        throw error;
      }
      problems.push(`${option.env}=${JSON.stringify(raw)} ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return values as C;
}

/** Merges the problems of several capabilities' configurations into one ConfigError. */
export function readAll<T extends Record<string, unknown>>(readers: { [K in keyof T]: () => T[K] }): T {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(readers) as [string, () => unknown][]) {
    try {
      result[name] = read();
    } catch (error) {
      if (!(error instanceof ConfigError)) {
        throw error;
      }
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return result as T;
}

/**
 * Reads the platform configuration from `env`.
 * @throws ConfigError listing every bad value at once
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): PlatformConfig {
  const config = readOptions<PlatformConfig>(platformOptions as readonly ConfigOption<PlatformConfig>[], env);
  config.publicUrl ??= `http://localhost:${config.port}`;
  if (config.databaseUrl && !config.secretKey) {
    // Every process must open what another sealed, so the key cannot be made up by one of them.
    throw new ConfigError([
      'MACHI_SECRET_KEY is required with DATABASE_URL (openssl rand -base64 32, the same for every process)',
    ]);
  }
  return config;
}

/** Warnings for settings that are unsafe in production, printed at every start while they are on. */
export function configWarnings(config: PlatformConfig): string[] {
  const warnings = optionWarnings(platformOptions as readonly ConfigOption<PlatformConfig>[], config);
  if (!config.databaseUrl && config.production) {
    warnings.push(
      'the embedded database (no DATABASE_URL) runs one process only; use PostgreSQL in production',
    );
  }
  return warnings;
}

/** Warnings of one capability's unsafe settings. */
export function optionWarnings<C>(options: readonly ConfigOption<C>[], config: C): string[] {
  return options.flatMap((option) => option.unsafe?.(config[option.key], config) ?? []);
}

/** `.env.example`, generated from the option tables so the two never drift apart. */
export function envExample(...groups: { title: string; options: readonly ConfigOption<never>[] }[]): string {
  const lines = ['# Machi configuration. Every variable is optional; the defaults run the demo.', ''];
  for (const group of groups) {
    lines.push(`## ${group.title}`, '');
    for (const option of group.options) {
      lines.push(`# ${option.description}`);
      lines.push(option.default === undefined ? `# ${option.env}=` : `${option.env}=${option.default}`);
      lines.push('');
    }
  }
  return lines.join('\n');
}
