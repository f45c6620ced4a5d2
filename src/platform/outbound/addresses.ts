/**
 * IP addresses as bytes, and the special-purpose ranges (IANA's IPv4 and IPv6 Special-Purpose
 * Address Registries, RFC 6890) that are not the public internet: loopback, private networks,
 * link-local (where cloud metadata services answer), multicast, documentation and reserved space.
 */
import net from 'node:net';

export type AddressKind =
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'unique-local'
  | 'unspecified'
  | 'multicast'
  | 'documentation'
  | 'reserved';

/** How a message names each kind: "… is a loopback address". */
export const KIND_WORDS: Record<AddressKind, string> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  shared: 'a carrier-grade NAT address (shared, RFC 6598)',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata service address',
  'unique-local': 'a unique-local IPv6 address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  documentation: 'a documentation address',
  reserved: 'a reserved address',
};

/** A network: its first address as bytes (4 or 16) and the length of its prefix in bits. */
export interface Network {
  bytes: Uint8Array;
  prefix: number;
}

export interface SpecialRange extends Network {
  kind: AddressKind;
  /** The range as written, for messages. */
  cidr: string;
}

/** `[::1]` → `::1`; a zone (`fe80::1%eth0`) is dropped: it names an interface, not an address. */
function bare(text: string): string {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return unbracketed.replace(/%.*$/, '');
}

/** The bytes of an IPv4 or IPv6 address (brackets allowed), or undefined when it is not one. */
export function parseAddress(text: string): Uint8Array | undefined {
  const address = bare(text);
  if (net.isIPv4(address)) {
    return Uint8Array.from(address.split('.').map(Number));
  }
  return net.isIPv6(address) ? parseIpv6(address) : undefined;
}

/** A valid IPv6 address (net.isIPv6 said so), `::` and an IPv4 tail included. */
function parseIpv6(address: string): Uint8Array {
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  let words = address;
  const tail: number[] = [];
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    words = address.slice(0, -v4.length);
    if (words.endsWith(':') && !words.endsWith('::')) {
      words = words.slice(0, -1);
    }
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const [head = '', rest] = words.split('::');
  const before = groups(head);
  const after = rest === undefined ? [] : groups(rest);
  const zeros = new Array<number>(8 - before.length - after.length - tail.length).fill(0);
  const all = [...before, ...zeros, ...after, ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/** `10.0.0.0/8`, `fd00::/8`, or one address (a network of its full length). */
export function parseNetwork(text: string): Network | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  const bytes = parseAddress(address);
  if (!bytes || extra !== undefined || address !== bare(address)) {
    return undefined;
  }
  const max = bytes.length * 8;
  if (prefixText === undefined) {
    return { bytes, prefix: max };
  }
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  return prefix >= 0 && prefix <= max ? { bytes, prefix } : undefined;
}

export function inNetwork(address: Uint8Array, network: Network): boolean {
  if (address.length !== network.bytes.length) {
    return false;
  }
  const full = Math.floor(network.prefix / 8);
  for (let i = 0; i < full; i++) {
    if (address[i] !== network.bytes[i]) {
      return false;
    }
  }
  const bits = network.prefix % 8;
  if (bits === 0) {
    return true;
  }
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((address[full] ?? 0) & mask) === ((network.bytes[full] ?? 0) & mask);
}

/**
 * The IPv4 address an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) reaches, else the address
 * itself: a connection to the one is a connection to the other.
 */
export function unmapped(address: Uint8Array): Uint8Array {
  const mapped =
    address.length === 16 &&
    address.subarray(0, 10).every((b) => b === 0) &&
    address[10] === 0xff &&
    address[11] === 0xff;
  return mapped ? address.slice(12) : address;
}

const range = (cidr: string, kind: AddressKind): SpecialRange => {
  const network = parseNetwork(cidr);
  if (!network) {
    throw new Error(`bad built-in range ${cidr}`);
  }
  return { ...network, kind, cidr };
};

/** Most specific first: the first range that holds an address names its kind. */
const SPECIAL: SpecialRange[] = [
  // Cloud metadata services: AWS, GCP, Azure, OpenStack on 169.254.169.254; AWS's IPv6 one;
  // Alibaba Cloud's inside the shared range.
  range('169.254.169.254/32', 'metadata'),
  range('fd00:ec2::254/128', 'metadata'),
  range('100.100.100.200/32', 'metadata'),
  range('0.0.0.0/8', 'unspecified'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'shared'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'reserved'),
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'reserved'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  // IPv4-compatible addresses (deprecated); the mapped ones are read as their IPv4 address.
  range('::/96', 'reserved'),
  range('64:ff9b:1::/48', 'private'),
  range('100::/64', 'reserved'),
  range('2001::/23', 'reserved'),
  range('2001:db8::/32', 'documentation'),
  range('3fff::/20', 'documentation'),
  range('fc00::/7', 'unique-local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'private'),
  range('ff00::/8', 'multicast'),
];

/** IPv6 ranges that carry an IPv4 address a router translates to: NAT64 (RFC 6052) and 6to4 (RFC 3056). */
const EMBEDDING: { network: Network; at: number }[] = [
  { network: parseNetwork('64:ff9b::/96') as Network, at: 12 },
  { network: parseNetwork('2002::/16') as Network, at: 2 },
];

/**
 * The special-purpose range an address belongs to, or undefined for a public address. An IPv6
 * address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches.
 */
export function specialRange(address: Uint8Array): SpecialRange | undefined {
  const effective = unmapped(address);
  const found = SPECIAL.find((r) => inNetwork(effective, r));
  if (found) {
    return found;
  }
  const embedding = EMBEDDING.find((e) => inNetwork(effective, e.network));
  return embedding ? specialRange(effective.slice(embedding.at, embedding.at + 4)) : undefined;
}
