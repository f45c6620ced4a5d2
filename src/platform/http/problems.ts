/**
 * The one place errors become responses: every error, thrown by domain code, by Fastify (bad JSON,
 * oversized body, unsupported media type, schema validation) or unexpected, leaves as an
 * RFC 9457 `application/problem+json` document. Client mistakes are 4xx; a 500 never shows internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import {
  AppError,
  BadRequest,
  InternalError,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  UnsupportedMediaType,
  ValidationFailed,
} from '../errors.ts';

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

/** Translates an error Fastify raised for a client's request into one of ours. */
function fromFastifyError(error: FastifyError, bodyLimit: number): AppError | undefined {
  if (error.validation) {
    const invalidParams = error.validation.map((v) => ({
      name: `${error.validationContext ?? 'body'}${v.instancePath || ''}`,
      reason: v.message ?? 'is not valid',
    }));
    const first = invalidParams[0];
    return new ValidationFailed(
      first ? `${first.name} ${first.reason}` : 'the request is not valid',
      invalidParams,
    );
  }
  const status = error.statusCode ?? 500;
  if (status === 413) {
    return new PayloadTooLarge(bodyLimit);
  }
  if (status === 415) {
    return new UnsupportedMediaType(
      `the content type ${error.message.replace(/^Unsupported Media Type:?\s*/, '')} is not accepted here`,
    );
  }
  if (status >= 400 && status < 500) {
    const detail =
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
        ? 'the request body is not valid JSON'
        : error.message;
    const problem = new BadRequest(detail);
    return status === 400 ? problem : new AppError(status, 'bad-request', 'Bad Request', detail);
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, error: AppError, mediaType = PROBLEM_JSON): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) {
    reply.header(name, value);
  }
  const body = error.toProblem();
  // A media type given without parameters is sent exactly so (Fastify would append a charset to a JSON
  // type): some NGSI-LD clients compare it character for character. JSON is UTF-8 (RFC 8259) either way.
  return reply
    .code(error.status)
    .type(mediaType)
    .send(mediaType.includes(';') ? body : Buffer.from(JSON.stringify(body)));
}

/**
 * Registers the error and not-found handlers. Unknown paths get 404; a known path with another
 * method gets 405 with `Allow`, found through a mirror of the route table.
 */
export function registerProblemHandlers(app: FastifyInstance, bodyLimit: number): void {
  const mirror = FindMyWay();
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (METHODS.includes(method as (typeof METHODS)[number])) {
        try {
          mirror.on(method as (typeof METHODS)[number], route.url, () => {});
        } catch {
          // Fastify accepted it; a duplicate in the mirror changes nothing.
        }
      }
    }
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((m) => mirror.find(m, path) !== null);
    if (allowed.length > 0) {
      return sendProblem(reply, new MethodNotAllowed(request.method, allowed));
    }
    return sendProblem(reply, new NotFound(`nothing is at ${request.method} ${path}`));
  });

  app.setErrorHandler(problemHandler(bodyLimit));
}

/**
 * The error handler: an AppError as it is, a client mistake Fastify found as a 4xx problem,
 * anything else as a bare 500 (logged). `translate` lets an encapsulated scope (the NGSI-LD broker)
 * turn errors into its own problem types first.
 */
export function problemHandler(
  bodyLimit: number,
  translate?: (error: FastifyError) => AppError | undefined,
  mediaType: (request: FastifyRequest) => string = () => PROBLEM_JSON,
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem =
      (error instanceof AppError ? error : undefined) ??
      translate?.(error) ??
      fromFastifyError(error, bodyLimit) ??
      new InternalError();
    if (problem.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    return sendProblem(reply, problem, mediaType(request));
  };
}
