/**
 * Revocation data (CRLs, OCSP answers) fetched under the platform's outbound policy, bounded in
 * size and in time: a slow or endless answer from a distribution point must not hold a login, or
 * the process's memory, hostage.
 */
import { type OutboundPolicy, outboundRequest } from '../../platform/index.ts';

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** Fetches one resource with GET and returns its body; follows at most two redirects. */
export async function fetchBytes(
  policy: OutboundPolicy,
  url: string,
  accept: string,
  limits: FetchLimits,
): Promise<Uint8Array> {
  // One deadline for the connection and the whole body.
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const response = await outboundRequest(policy, url, { headers: { accept }, signal, maxRedirects: 2 });
  if (response.status !== 200) {
    response.body.destroy();
    throw new Error(`${url} answered ${response.status}`);
  }
  if (Number(response.headers['content-length']) > limits.maxBytes) {
    response.body.destroy();
    throw new Error(`${url} is larger than ${limits.maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limits.maxBytes) {
      response.body.destroy();
      throw new Error(`${url} is larger than ${limits.maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
