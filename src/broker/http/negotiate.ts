/**
 * Content negotiation for NGSI-LD (ETSI GS CIM 009 §6.3.4–6.3.6): which representation a client
 * accepts, and which @context a request carries.
 */
import type { FastifyRequest } from 'fastify';
import { NotAcceptable } from '../../platform/index.ts';
import { type ContextRef, contextFromLinkHeader } from '../context/json-ld.ts';
import { BadRequestData } from '../errors.ts';

export type MediaType = 'application/json' | 'application/ld+json' | 'application/geo+json';
const OFFERED: MediaType[] = ['application/json', 'application/ld+json', 'application/geo+json'];

/** The best representation for the Accept header; 406 when none is offered. */
export function negotiate(accept: string | undefined, offered: MediaType[] = OFFERED): MediaType {
  if (!accept || accept.trim() === '') {
    return 'application/json';
  }
  const ranges = accept
    .split(',')
    .map((part, index) => {
      const [range = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { range: range.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { range } of ranges) {
    if (range === '*/*' || range === 'application/*') {
      return offered[0] as MediaType;
    }
    const match = offered.find((m) => m === range);
    if (match) {
      return match;
    }
  }
  throw new NotAcceptable(`this resource is available as ${offered.join(', ')}`);
}

/**
 * The user @context of a request: from the body when it is JSON-LD, otherwise from the Link header.
 * @throws BadRequestData when both or neither are where the content type says they must be
 */
export function requestContext(request: FastifyRequest): ContextRef[] {
  const header = request.headers.link;
  const link = contextFromLinkHeader(Array.isArray(header) ? header.join(',') : header);
  const type = String(request.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  const body = request.body as Record<string, unknown> | undefined;
  if (type === 'application/ld+json') {
    if (link) {
      throw new BadRequestData(
        'a JSON-LD body carries its own @context; do not send a context Link header with it',
      );
    }
    const context = Array.isArray(body) ? undefined : body?.['@context'];
    if (context === undefined) {
      throw new BadRequestData('a body sent as application/ld+json must have an @context');
    }
    return asRefs(context);
  }
  if (body && !Array.isArray(body) && body['@context'] !== undefined) {
    throw new BadRequestData('a body with an @context must be sent as application/ld+json');
  }
  return link ? [link] : [];
}

export function asRefs(context: unknown): ContextRef[] {
  const list = Array.isArray(context) ? context : [context];
  for (const item of list) {
    if (typeof item !== 'string' && (typeof item !== 'object' || item === null || Array.isArray(item))) {
      throw new BadRequestData('@context must be a URL, an object, or an array of them');
    }
  }
  return list as ContextRef[];
}
