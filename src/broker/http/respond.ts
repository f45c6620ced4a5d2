/**
 * Shapes broker responses: JSON with a context Link header, JSON-LD with @context in the body,
 * or GeoJSON (ETSI GS CIM 009 §6.3.6, §4.5.16).
 */
import type { FastifyReply } from 'fastify';
import { CORE_CONTEXT_URL } from '../context/core.ts';
import { type ActiveContext, contextLink } from '../context/json-ld.ts';
import type { MediaType } from './negotiate.ts';

type Json = Record<string, unknown>;

function bodyContext(ctx: ActiveContext): unknown {
  return ctx.user.length ? [...ctx.user, CORE_CONTEXT_URL] : CORE_CONTEXT_URL;
}

/** The context a JSON response links to: the user's context when it is one URL, else the core context. */
function linkedContext(ctx: ActiveContext): string {
  const [only] = ctx.user;
  return ctx.user.length === 1 && typeof only === 'string' ? only : CORE_CONTEXT_URL;
}

function toFeature(entity: Json, geoproperty: string): Json {
  const { id, ...properties } = entity;
  const geo = properties[geoproperty] as Json | undefined;
  const geometry = geo && typeof geo === 'object' && 'value' in geo ? geo.value : (geo ?? null);
  return { id, type: 'Feature', geometry, properties };
}

export function sendEntities(
  reply: FastifyReply,
  media: MediaType,
  ctx: ActiveContext,
  payload: Json | Json[],
  geoproperty = 'location',
): FastifyReply {
  if (media === 'application/geo+json') {
    const body = Array.isArray(payload)
      ? { type: 'FeatureCollection', features: payload.map((e) => toFeature(e, geoproperty)) }
      : toFeature(payload, geoproperty);
    reply.header('link', contextLink(linkedContext(ctx)));
    return reply.type('application/geo+json').send(body);
  }
  if (media === 'application/ld+json') {
    const context = bodyContext(ctx);
    const body = Array.isArray(payload)
      ? payload.map((e) => ({ '@context': context, ...e }))
      : { '@context': context, ...payload };
    return reply.type('application/ld+json').send(body);
  }
  reply.header('link', contextLink(linkedContext(ctx)));
  return reply.type('application/json').send(payload);
}
