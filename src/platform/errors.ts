/**
 * The errors domain code throws. Each carries an RFC 9457 problem type, a status and a title;
 * one error handler (http/problems.ts) turns them into `application/problem+json`.
 * The list of problem types is kept in docs/errors.md; a test keeps the two in step.
 */

/** Problem type URIs are stable across deployments, so clients can match on them. */
export const PROBLEM_BASE = 'urn:machi:problem:';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;
  /** The problem type's slug, e.g. `not-found`; the type URI is PROBLEM_BASE + slug. */
  readonly slug: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  /** Headers the response must carry, e.g. `Allow` for 405. */
  readonly headers: Record<string, string>;
  /** A problem type URI defined elsewhere (NGSI-LD's error types) instead of PROBLEM_BASE + slug. */
  readonly #typeUri: string | undefined;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    options: {
      cause?: unknown;
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      typeUri?: string;
    } = {},
  ) {
    super(detail ?? title, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
    this.#typeUri = options.typeUri;
  }

  get type(): string {
    return this.#typeUri ?? PROBLEM_BASE + this.slug;
  }

  toProblem(instance?: string): ProblemDetails {
    const problem: ProblemDetails = { type: this.type, title: this.title, status: this.status };
    // A 500's detail is for the logs; every other status's detail is written for the client.
    if (this.status !== 500 && this.message !== this.title) {
      problem.detail = this.message;
    }
    if (instance) {
      problem.instance = instance;
    }
    return { ...problem, ...this.extensions };
  }
}

export class BadRequest extends AppError {
  constructor(detail?: string, options?: { cause?: unknown; extensions?: Record<string, unknown> }) {
    super(400, 'bad-request', 'Bad Request', detail, options);
  }
}

/** One field of a request that failed validation. */
export interface InvalidParam {
  name: string;
  reason: string;
}

export class ValidationFailed extends AppError {
  constructor(detail: string, invalidParams: InvalidParam[]) {
    super(400, 'validation-failed', 'The request is not valid', detail, {
      extensions: { invalidParams },
    });
  }
}

export class Unauthorized extends AppError {
  /** @param challenge the `WWW-Authenticate` value telling the client how to authenticate (RFC 6750) */
  constructor(detail?: string, challenge?: string) {
    super(401, 'unauthorized', 'Authentication required', detail, {
      headers: challenge ? { 'www-authenticate': challenge } : {},
    });
  }
}

export class Forbidden extends AppError {
  constructor(detail?: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

/**
 * The caller is known, but the data is a resident's personal data and no consent of the resident
 * covers this use (the consent capability's policy decision point answers; until it exists, none does).
 */
export class ConsentRequired extends AppError {
  constructor(detail?: string) {
    super(403, 'consent-required', 'Consent required', detail);
  }
}

/** Also answers for a record the caller may not see, so its existence does not leak. */
export class NotFound extends AppError {
  constructor(detail?: string) {
    super(404, 'not-found', 'Not Found', detail);
  }
}

export class MethodNotAllowed extends AppError {
  constructor(method: string, allowed: string[]) {
    super(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      `${method} is not allowed here; use ${allowed.join(', ')}`,
      {
        headers: { allow: allowed.join(', ') },
      },
    );
  }
}

export class NotAcceptable extends AppError {
  constructor(detail?: string) {
    super(406, 'not-acceptable', 'Not Acceptable', detail);
  }
}

export class Conflict extends AppError {
  constructor(detail?: string) {
    super(409, 'conflict', 'Conflict', detail);
  }
}

export class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super(413, 'payload-too-large', 'Payload Too Large', `the request body is larger than ${limit} bytes`);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(detail?: string) {
    super(415, 'unsupported-media-type', 'Unsupported Media Type', detail);
  }
}

export class TooManyRequests extends AppError {
  constructor(retryAfterSeconds: number) {
    super(429, 'too-many-requests', 'Too Many Requests', `try again in ${retryAfterSeconds} seconds`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
  }
}

export class InternalError extends AppError {
  constructor(detail?: string, options?: { cause?: unknown }) {
    super(500, 'internal', 'Internal Server Error', detail, options);
  }
}

export class ServiceUnavailable extends AppError {
  constructor(detail?: string) {
    super(503, 'service-unavailable', 'Service Unavailable', detail);
  }
}
