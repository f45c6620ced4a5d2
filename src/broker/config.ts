/** The broker's settings (environment variables), validated at start with the platform's. */
import {
  BadValue,
  ConfigError,
  type ConfigOption,
  integer,
  invalidAliasReason,
  invalidCodeReason,
  looksLikeAlias,
  readOptions,
} from '../platform/index.ts';

export interface BrokerConfig {
  /** Tenant (code or alias) of requests without NGSILD-Tenant; unset: the lowest-numbered prefecture. */
  defaultTenant: string | undefined;
  /** `off` lets anonymous callers read and write non-personal entities (loopback only). */
  auth: 'on' | 'off';
  contextTimeoutMs: number;
  contextMaxBytes: number;
  maxLimit: number;
  /** Entities each process keeps in memory for reads by id (0: none). */
  entityCacheSize: number;
}

export const brokerOptions: readonly ConfigOption<BrokerConfig>[] = [
  {
    env: 'NGSILD_DEFAULT_TENANT',
    key: 'defaultTenant',
    description:
      'Tenant (全国地方公共団体コード or alias) of NGSI-LD requests without NGSILD-Tenant (default: the prefecture)',
    default: undefined,
    parse: (raw) => {
      const name = raw.trim();
      if (looksLikeAlias(name)) {
        const reason = invalidAliasReason(name.toLowerCase());
        if (reason) {
          throw new BadValue(`must be a tenant alias or a 全国地方公共団体コード: ${reason}`);
        }
        return name.toLowerCase();
      }
      const reason = invalidCodeReason(name);
      if (reason) {
        throw new BadValue(`must be a 全国地方公共団体コード: ${reason}`);
      }
      return name;
    },
  },
  {
    env: 'MACHI_AUTH',
    key: 'auth',
    description:
      'off lets anonymous callers read and write non-personal NGSI-LD entities; only on a loopback HOST',
    default: 'on',
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      if (v !== 'on' && v !== 'off') {
        throw new BadValue('must be on or off');
      }
      return v;
    },
    unsafe: (v) =>
      v === 'off' ? 'MACHI_AUTH=off: anyone on this machine may write non-personal entities' : undefined,
  },
  {
    env: 'NGSILD_CONTEXT_TIMEOUT_MS',
    key: 'contextTimeoutMs',
    description: 'How long to wait for a remote JSON-LD @context, in milliseconds',
    default: '5000',
    parse: integer(100, 60_000),
  },
  {
    env: 'NGSILD_CONTEXT_MAX_BYTES',
    key: 'contextMaxBytes',
    description: 'Largest remote JSON-LD @context accepted, in bytes',
    default: '1048576',
    parse: integer(1024, 16 * 1024 * 1024),
  },
  {
    env: 'NGSILD_MAX_LIMIT',
    key: 'maxLimit',
    description: 'Largest page of entities one query may ask for (limit)',
    default: '1000',
    parse: integer(1, 100_000),
  },
  {
    env: 'NGSILD_ENTITY_CACHE',
    key: 'entityCacheSize',
    description:
      'Entities each API process keeps in memory for GET by id, dropped on change by any process (0: off)',
    default: '10000',
    parse: integer(0, 10_000_000),
  },
];

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Reads the broker's settings; MACHI_AUTH=off is refused unless Machi listens on loopback only.
 * @throws ConfigError
 */
export function loadBrokerConfig(env: Record<string, string | undefined>, host = '127.0.0.1'): BrokerConfig {
  const config = readOptions(brokerOptions, env);
  if (config.auth === 'off' && !LOOPBACK.test(host)) {
    throw new ConfigError([
      `MACHI_AUTH="off" is only accepted when HOST is a loopback address (HOST=${host})`,
    ]);
  }
  return config;
}
