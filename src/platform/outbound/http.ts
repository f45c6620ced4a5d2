/**
 * HTTP(S) requests under the outbound policy, with Node's own http and https modules: the host is
 * resolved and checked first, and the socket connects to one of the checked addresses (a lookup
 * that answers only those), so a DNS answer that changes between the check and the connection
 * (DNS rebinding) changes nothing. TLS still verifies the certificate against the host name.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { OutboundPolicy, ResolvedAddress } from './policy.ts';

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the request, and the reading of its body. */
  signal?: AbortSignal;
  /**
   * Redirects of a GET to follow, each to a destination the policy checks again; 0 (the default):
   * a 3xx is the answer.
   */
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Where the answer came from, after any redirects. */
  url: URL;
  /** The body, to read or to `destroy()`. */
  body: http.IncomingMessage;
}

/** Keep-alive agents of each policy, so a socket one policy opened is never reused under another. */
const agents = new WeakMap<OutboundPolicy, { http: http.Agent; https: https.Agent }>();

function agentsOf(policy: OutboundPolicy) {
  let found = agents.get(policy);
  if (!found) {
    found = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    agents.set(policy, found);
  }
  return found;
}

/**
 * Headers only this client sets: a caller's Host could steer a shared reverse proxy at the allowed
 * address to an internal virtual host, and framing headers could split the request.
 */
const OWN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

function requestHeaders(init: OutboundRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    if (!OWN_HEADERS.has(name.toLowerCase())) {
      headers[name] = value;
    }
  }
  if (init.body !== undefined) {
    headers['Content-Length'] = String(Buffer.byteLength(init.body));
  }
  return headers;
}

/** A lookup that answers only the addresses already checked, never asking DNS again. */
function pinned(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable =
      options.family === 4 || options.family === 6
        ? addresses.filter((a) => a.family === options.family)
        : addresses;
    const [first] = usable;
    if (options.all) {
      callback(null, usable);
    } else if (first) {
      callback(null, first.address, first.family);
    } else {
      callback(Object.assign(new Error('no checked address of that family'), { code: 'ENOTFOUND' }), '');
    }
  };
}

async function requestOnce(
  policy: OutboundPolicy,
  url: URL,
  init: OutboundRequest,
): Promise<OutboundResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${url.protocol} is not http or https`);
  }
  const secure = url.protocol === 'https:';
  const addresses = await policy.resolve(url.hostname, Number(url.port) || (secure ? 443 : 80));
  init.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      url,
      {
        method: init.method ?? 'GET',
        headers: requestHeaders(init),
        signal: init.signal,
        agent: agentsOf(policy)[secure ? 'https' : 'http'],
        lookup: pinned(addresses),
      },
      (response) =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, url, body: response }),
    );
    request.on('error', reject);
    request.end(init.body);
  });
}

/**
 * Sends one request to a destination the policy allows.
 * @throws OutboundDenied before any connection when the destination (or a redirect's) is refused
 * @throws Error when the name does not resolve, the connection fails or the signal aborts
 */
export async function outboundRequest(
  policy: OutboundPolicy,
  url: URL | string,
  init: OutboundRequest = {},
): Promise<OutboundResponse> {
  const maxRedirects = (init.method ?? 'GET') === 'GET' ? (init.maxRedirects ?? 0) : 0;
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    const response = await requestOnce(policy, target, init);
    const location = response.headers.location;
    if (maxRedirects === 0 || response.status < 300 || response.status > 399 || !location) {
      return response;
    }
    response.body.destroy();
    if (hop >= maxRedirects) {
      throw new Error(`more than ${maxRedirects} redirects`);
    }
    target = new URL(location, target);
  }
}
