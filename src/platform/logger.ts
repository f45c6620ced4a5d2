/**
 * Log options: JSON lines (pino) that never carry personal data. A request is logged by its route
 * pattern (`/api/v1/residents/:id`), never its concrete URL or query string, and without headers,
 * body or client address; errors keep only their type, code, message and stack.
 */
import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

interface SerializedRequest {
  id: string;
  method: string;
  route: string;
}

function serializeRequest(req: FastifyRequest): SerializedRequest {
  return {
    id: String(req.id),
    method: req.method,
    // The pattern only: concrete paths and query strings may hold names, addresses or ids.
    route: req.routeOptions?.url ?? '(no route)',
  };
}

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) {
    return { message: 'non-error thrown' };
  }
  const code = (err as { code?: unknown }).code;
  return { type: err.name, code, message: err.message, stack: err.stack };
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'machi' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    serializers: {
      req: serializeRequest as unknown as (req: unknown) => unknown,
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
  };
}
