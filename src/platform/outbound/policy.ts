/**
 * Which addresses Machi may call on a client's behalf (a subscription's endpoint, a remote
 * @context, later a webhook of any kind). Public addresses are allowed; loopback, private networks,
 * link-local and the other special-purpose ranges are refused unless the operator allows them
 * (OUTBOUND_ALLOW, OUTBOUND_PRIVATE). The check is made on the addresses a name resolves to, and the
 * caller then connects to exactly those addresses, so DNS cannot answer differently in between.
 */
import dns from 'node:dns';
import net from 'node:net';
import {
  type AddressKind,
  inNetwork,
  KIND_WORDS,
  type Network,
  parseAddress,
  parseNetwork,
  type SpecialRange,
  specialRange,
  unmapped,
} from './addresses.ts';

/** One entry of OUTBOUND_ALLOW: a host name, or a network (one address or a CIDR), with or without a port. */
export type OutboundRule =
  | { kind: 'host'; host: string; port?: number }
  | ({ kind: 'network'; port?: number } & Network);

export interface OutboundSettings {
  /** `allow`: every special-purpose address but link-local and metadata ones is allowed too. */
  outboundPrivate: 'deny' | 'allow';
  outboundAllow: OutboundRule[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (the system resolver: hosts file, then DNS). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (host) => {
  const found = await dns.promises.lookup(host, { all: true, order: 'verbatim' });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** A destination the policy refuses. Retrying cannot help, so a job that fails with it ends at once. */
export class OutboundDenied extends Error {
  override name = 'OutboundDenied';
  readonly retryable = false;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parsePort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65535 ? port : undefined;
}

function parseRule(entry: string): OutboundRule | undefined {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  if (bracketed) {
    const network = parseNetwork(bracketed[1] ?? '');
    const port = parsePort(bracketed[2] ?? '');
    return network && net.isIPv6(bracketed[1] ?? '') && port
      ? { kind: 'network', ...network, port }
      : undefined;
  }
  const network = parseNetwork(entry);
  if (network) {
    return { kind: 'network', ...network };
  }
  const [host = '', portText, extra] = entry.split(':');
  const port = portText === undefined ? undefined : parsePort(portText);
  if (extra !== undefined || (portText !== undefined && port === undefined)) {
    return undefined;
  }
  const address = parseNetwork(host);
  if (address && address.bytes.length === 4) {
    return { kind: 'network', ...address, ...(port ? { port } : {}) };
  }
  const name = normaliseHost(host);
  return HOST_NAME.test(name) && !parseAddress(name)
    ? { kind: 'host', host: name, ...(port ? { port } : {}) }
    : undefined;
}

/**
 * OUTBOUND_ALLOW: comma-separated host names, host:port, addresses ([v6]:port with a port) and CIDRs.
 * @throws Error naming the first entry that is none of these
 */
export function parseOutboundAllow(raw: string): OutboundRule[] {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const rule = parseRule(entry.toLowerCase());
    if (!rule) {
      throw new Error(
        `has "${entry}", which is not a host name, host:port, IP address, [IPv6]:port or CIDR (10.0.0.0/8)`,
      );
    }
    return rule;
  });
}

/**
 * A host as the policy compares it: lower case, without brackets or a final dot, and an IPv4
 * address in any of the forms URL parsers accept (`2130706433`, `0x7f.1`) written out as one.
 */
export function normaliseHost(host: string): string {
  let h = host.toLowerCase().replace(/\.$/, '');
  if (h.startsWith('[') && h.endsWith(']')) {
    h = h.slice(1, -1);
  }
  if (net.isIP(h) || h.includes(':')) {
    return h;
  }
  try {
    return new URL(`http://${h}`).hostname;
  } catch {
    return h;
  }
}

/** RFC 6761: `localhost` and every name under it are the machine itself, whatever DNS says. */
const isLocalhost = (host: string) => host === 'localhost' || host.endsWith('.localhost');

function ruleAllows(rule: OutboundRule, host: string, address: Uint8Array, port: number): boolean {
  if (rule.port !== undefined && rule.port !== port) {
    return false;
  }
  return rule.kind === 'host' ? rule.host === host : inNetwork(unmapped(address), rule);
}

/** Kinds that OUTBOUND_PRIVATE=allow still refuses: only an OUTBOUND_ALLOW entry opens them. */
const NEVER_BY_DEFAULT: ReadonlySet<AddressKind> = new Set(['link-local', 'metadata']);

export class OutboundPolicy {
  readonly #settings: OutboundSettings;
  readonly #resolve: Resolver;

  constructor(settings: OutboundSettings, resolve: Resolver = systemResolver) {
    this.#settings = settings;
    this.#resolve = resolve;
  }

  /** The range that makes the policy refuse this address (of this host, on this port), if any. */
  refusal(host: string, address: Uint8Array, port: number): SpecialRange | undefined {
    const special = specialRange(address);
    if (!special) {
      return undefined;
    }
    const h = normaliseHost(host);
    if (this.#settings.outboundAllow.some((rule) => ruleAllows(rule, h, address, port))) {
      return undefined;
    }
    if (this.#settings.outboundPrivate === 'allow' && !NEVER_BY_DEFAULT.has(special.kind)) {
      return undefined;
    }
    return special;
  }

  /**
   * Refuses at once a URL whose host is an address, or a localhost name, that the policy refuses:
   * for checking what a client asks for before keeping it. Other names are checked when they are
   * used, since what they resolve to can change.
   * @throws OutboundDenied
   */
  checkUrl(url: URL): void {
    const host = normaliseHost(url.hostname);
    const port = Number(url.port) || defaultPort(url.protocol);
    const literal = parseAddress(host);
    const addresses = literal ? [literal] : isLocalhost(host) ? LOCALHOST : [];
    for (const address of addresses) {
      const refused = this.refusal(host, address, port);
      if (refused) {
        throw this.#denied(`${host} is`, refused);
      }
    }
  }

  /**
   * Every address a host has, each one checked; the caller must connect to one of these and not
   * resolve the name again.
   * @throws OutboundDenied when any of them is refused
   * @throws Error when the name does not resolve
   */
  async resolve(host: string, port: number): Promise<ResolvedAddress[]> {
    const h = normaliseHost(host);
    const literal = parseAddress(h);
    const addresses: ResolvedAddress[] = literal
      ? [{ address: h, family: literal.length === 4 ? 4 : 6 }]
      : await this.#resolve(h).catch((error: NodeJS.ErrnoException) => {
          throw new Error(`could not resolve ${h}: ${error.code ?? error.message}`);
        });
    if (addresses.length === 0) {
      throw new Error(`could not resolve ${h}: no address`);
    }
    for (const { address } of addresses) {
      const refused = this.refusal(h, parseAddress(address) ?? new Uint8Array(4), port);
      if (refused) {
        throw this.#denied(literal ? `${h} is` : `${h} resolves to`, refused);
      }
    }
    return addresses;
  }

  /** `subject` says what was refused: "10.0.0.1 is", "intranet.example resolves to". */
  #denied(subject: string, refused: SpecialRange): OutboundDenied {
    const how = NEVER_BY_DEFAULT.has(refused.kind)
      ? 'unless OUTBOUND_ALLOW lists it'
      : 'unless OUTBOUND_ALLOW lists it or OUTBOUND_PRIVATE=allow';
    return new OutboundDenied(
      `${subject} ${KIND_WORDS[refused.kind]} (${refused.cidr}), which Machi does not call ${how}`,
    );
  }
}

const LOCALHOST = [parseAddress('127.0.0.1'), parseAddress('::1')] as Uint8Array[];

export function defaultPort(protocol: string): number {
  return { 'http:': 80, 'https:': 443, 'mqtt:': 1883, 'mqtts:': 8883 }[protocol] ?? 0;
}
