/**
 * A call to one of Machi's own APIs with the session's bearer token: a 401 means the session is
 * over (the page then asks to sign in again), and a refusal's problem detail (RFC 9457) is passed
 * on to be shown.
 */

/** The session ended (expired, signed out elsewhere, or its access withdrawn). */
export class SessionEnded extends Error {}

/** The API refused; `detail` is the problem's explanation. */
export class Refused extends Error {
  readonly status: number;
  readonly detail: string;

  constructor(status: number, detail: string) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

/** The response of a call that went through (2xx). */
export async function apiCall(
  url: string,
  accessToken: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (response.status === 401) throw new SessionEnded();
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new Refused(response.status, problem.detail ?? problem.title ?? String(response.status));
  }
  return response;
}
