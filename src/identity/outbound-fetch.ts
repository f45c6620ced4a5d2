/**
 * A `fetch` for the OpenID libraries (oidc-provider's back-channel logout, openid-client's calls to
 * upstream providers) that goes through the platform's outbound policy: the destination is
 * resolved and checked, and the connection made to the checked address.
 */
import { type OutboundPolicy, outboundRequest } from '../platform/index.ts';

export function policedFetch(outbound: OutboundPolicy) {
  return async (url: URL | string, init: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const answer = await outboundRequest(outbound, new URL(String(url)), {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined || init.body === null ? undefined : String(init.body),
      signal: init.signal ?? undefined,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of answer.body) chunks.push(chunk as Buffer);
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (typeof value === 'string') responseHeaders.set(name, value);
    }
    const empty = [101, 204, 205, 304].includes(answer.status);
    return new Response(empty ? null : Buffer.concat(chunks), {
      status: answer.status,
      headers: responseHeaders,
    });
  };
}
