/**
 * /ngsi-ld/v1/jsonldContexts: the broker as a store of @contexts (ETSI GS CIM 009 §5.13): clients
 * give it contexts to host, list what it holds (hosted and cached), read one, delete or reload one.
 * The store is deployment-wide: a context is vocabulary, shared by every tenant.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OutboundPolicy } from '../../platform/index.ts';
import type { BrokerAction } from '../authorise.ts';
import {
  type ContextKind,
  findStoredContext,
  hostContext,
  listStoredContexts,
  namesStoredContext,
  reloadCachedContext,
  removeStoredContext,
  type StoredContext,
} from '../context/loader.ts';
import { BadRequestData, InvalidRequest, NgsiLdError, ResourceNotFound } from '../errors.ts';
import { asRefs, negotiate } from './negotiate.ts';
import type { QueryParams } from './query-options.ts';
import { accessScope, type BrokerContext } from './scope.ts';

export interface ContextRoutesOptions extends BrokerContext {
  /** This broker's public URL: hosted contexts' URLs start with it. */
  publicUrl: string;
  /** Where a reload may fetch from. */
  outbound: OutboundPolicy;
}

type ListRequest = FastifyRequest<{ Querystring: QueryParams }>;
type IdRequest = FastifyRequest<{ Params: { contextId: string }; Querystring: QueryParams }>;

const OFFERED = ['application/json' as const, 'application/ld+json' as const];

/** §5.13.5: a cached context that cannot be downloaded again answers 504; the old copy stays. */
class ReloadFailed extends NgsiLdError {
  constructor(detail: string) {
    super(504, 'LdContextNotAvailable', 'JSON-LD @context not available', detail);
  }
}

/** The spec's names for kinds (§5.13.3.4); this broker creates no ImplicitlyCreated contexts. */
const KIND_NAMES: Record<ContextKind, string> = { hosted: 'Hosted', cached: 'Cached' };
const KINDS = new Map<string, ContextKind | undefined>([
  ['Hosted', 'hosted'],
  ['Cached', 'cached'],
  ['ImplicitlyCreated', undefined],
]);

/**
 * The access decision for the context store. requestScope is not used: the store belongs to no
 * tenant's data, and a POST body is itself an @context document, which requestScope would take for
 * the request's own context. The tenant is still resolved so a bad NGSILD-Tenant is refused alike.
 */
async function authoriseStore(broker: BrokerContext, request: FastifyRequest, action: BrokerAction) {
  await accessScope(broker, request, action, 'contexts');
}

function flag(query: QueryParams, name: 'details' | 'reload'): boolean {
  const value = query[name];
  if (value !== undefined && value !== 'true' && value !== 'false') {
    throw new InvalidRequest(`${name} must be true or false`);
  }
  return value === 'true';
}

function kindFilter(query: QueryParams): { kind?: ContextKind; none: boolean } {
  if (query.kind === undefined) {
    return { none: false };
  }
  if (!KINDS.has(query.kind)) {
    throw new InvalidRequest(`kind must be one of ${[...KINDS.keys()].join(', ')}`);
  }
  const kind = KINDS.get(query.kind);
  return kind ? { kind, none: false } : { none: true };
}

/** ContextInfo (§5.13.3.5); usage counts (lastUsage, numberOfHits) are not kept. */
function contextInfo(stored: StoredContext) {
  return {
    url: stored.url,
    localId: stored.localId,
    kind: KIND_NAMES[stored.kind],
    createdAt: stored.createdAt.toISOString(),
  };
}

/** The context document of a POST body: an object whose only member is a valid `@context`. */
async function parseContextDocument(broker: BrokerContext, body: unknown): Promise<unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('@context' in body)) {
    throw new BadRequestData('the body must be a JSON object with an @context member');
  }
  const extra = Object.keys(body).filter((k) => k !== '@context');
  if (extra.length > 0) {
    throw new BadRequestData(`a context document has only @context, not ${extra.join(', ')}`);
  }
  const context = (body as { '@context': unknown })['@context'];
  // Processing it now refuses what no request could use later (BadRequestData, LdContextNotAvailable).
  await broker.contexts.resolve(asRefs(context));
  return { '@context': context };
}

async function storedOr404(broker: BrokerContext, id: string) {
  const stored = await findStoredContext(broker.db, id);
  if (!stored) {
    throw new ResourceNotFound(`no @context ${id} is stored here`);
  }
  return stored;
}

function send(reply: FastifyReply, request: FastifyRequest, body: unknown): FastifyReply {
  return reply.type(negotiate(request.headers.accept, OFFERED)).send(body);
}

export function registerContextRoutes(app: FastifyInstance, broker: ContextRoutesOptions): void {
  /** §5.13.2 Add @context: the client names it afterwards by the URL in Location. */
  app.post('/ngsi-ld/v1/jsonldContexts', async (request, reply) => {
    await authoriseStore(broker, request, 'write');
    const document = await parseContextDocument(broker, request.body);
    const stored = await hostContext(broker.db, document, broker.publicUrl);
    return reply
      .code(201)
      .header('location', `/ngsi-ld/v1/jsonldContexts/${encodeURIComponent(stored.localId)}`)
      .send();
  });

  /** §5.13.3 List @contexts: URLs, or ContextInfo objects with details=true. */
  app.get('/ngsi-ld/v1/jsonldContexts', async (request: ListRequest, reply) => {
    negotiate(request.headers.accept, OFFERED);
    const details = flag(request.query, 'details');
    const { kind, none } = kindFilter(request.query);
    await authoriseStore(broker, request, 'read');
    const stored = none ? [] : await listStoredContexts(broker.db, kind);
    return send(reply, request, details ? stored.map(contextInfo) : stored.map((c) => c.url));
  });

  /**
   * §5.13.4 Serve @context: the document, or its ContextInfo with details=true. The spec serves
   * documents of hosted contexts only; cached ones are served too, so that a client can see exactly
   * what the broker expands its names with.
   */
  app.get('/ngsi-ld/v1/jsonldContexts/:contextId', async (request: IdRequest, reply) => {
    negotiate(request.headers.accept, OFFERED);
    const details = flag(request.query, 'details');
    await authoriseStore(broker, request, 'read');
    const stored = await storedOr404(broker, request.params.contextId);
    return send(reply, request, details ? contextInfo(stored) : stored.document);
  });

  /** §5.13.5 Delete and reload @context; every processed context built from it is forgotten. */
  app.delete('/ngsi-ld/v1/jsonldContexts/:contextId', async (request: IdRequest, reply) => {
    const reload = flag(request.query, 'reload');
    await authoriseStore(broker, request, 'write');
    const stored = await storedOr404(broker, request.params.contextId);
    if (reload && stored.kind !== 'cached') {
      throw new BadRequestData('only a cached @context can be reloaded; a hosted one has no origin');
    }
    if (reload) {
      const options = {
        timeoutMs: broker.config.contextTimeoutMs,
        maxBytes: broker.config.contextMaxBytes,
        outbound: broker.outbound,
      };
      await reloadCachedContext(broker.db, stored.url, options).catch((error: Error) => {
        throw new ReloadFailed(error.message);
      });
    } else {
      await removeStoredContext(broker.db, stored.url);
    }
    broker.contexts.forget((url) => namesStoredContext(url, stored));
    return reply.code(204).send();
  });
}
