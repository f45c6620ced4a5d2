/**
 * NGSI-LD's own error types (ETSI GS CIM 009 §5.5.2, Table 5.5.2-1), answered as RFC 9457 problem
 * details with the spec's type URIs. The broker throws these; the platform's one error handler
 * serialises them like every other AppError.
 */
import { AppError } from '../platform/index.ts';

const ERRORS = 'https://uri.etsi.org/ngsi-ld/errors/';

export class NgsiLdError extends AppError {
  constructor(
    status: number,
    name: string,
    title: string,
    detail: string,
    extensions?: Record<string, unknown>,
  ) {
    super(status, `ngsi-ld-${name}`, title, detail, {
      typeUri: ERRORS + name,
      ...(extensions ? { extensions } : {}),
    });
  }
}

/** The request is not well formed: a wrong parameter, a malformed query or header. */
export class InvalidRequest extends NgsiLdError {
  constructor(detail: string) {
    super(400, 'InvalidRequest', 'Invalid request', detail);
  }
}

/** The request is well formed but its data is not valid NGSI-LD (an id that is no URI, a wrong attribute). */
export class BadRequestData extends NgsiLdError {
  constructor(detail: string) {
    super(400, 'BadRequestData', 'Bad request data', detail);
  }
}

export class AlreadyExists extends NgsiLdError {
  constructor(detail: string) {
    super(409, 'AlreadyExists', 'Already exists', detail);
  }
}

export class OperationNotSupported extends NgsiLdError {
  constructor(detail: string) {
    super(422, 'OperationNotSupported', 'Operation not supported', detail);
  }
}

export class ResourceNotFound extends NgsiLdError {
  constructor(detail: string) {
    super(404, 'ResourceNotFound', 'Resource not found', detail);
  }
}

export class TooComplexQuery extends NgsiLdError {
  constructor(detail: string) {
    super(403, 'TooComplexQuery', 'Too complex query', detail);
  }
}

export class TooManyResults extends NgsiLdError {
  constructor(detail: string) {
    super(403, 'TooManyResults', 'Too many results', detail);
  }
}

export class LdContextNotAvailable extends NgsiLdError {
  constructor(detail: string) {
    super(503, 'LdContextNotAvailable', 'JSON-LD @context not available', detail);
  }
}

export class NonexistentTenant extends NgsiLdError {
  constructor(detail: string) {
    super(404, 'NonexistentTenant', 'Nonexistent tenant', detail);
  }
}
