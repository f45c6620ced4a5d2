/**
 * Active @contexts: a request's user context (Link header or body `@context`) followed by the
 * bundled core context, processed by jsonld.js (context processing, IRI expansion and compaction are
 * the library's own algorithms). Processed contexts are kept in a small per-process cache, since a
 * client sends the same context with every request; each entry remembers the context URLs it was
 * built from, so that deleting or reloading one of them (/jsonldContexts, §5.13.5) drops it.
 * jsonld.js keeps no URL-loaded context of its own between calls: it shares only documents whose
 * loader result carries a `tag`, and ours never does.
 */
import jsonld from 'jsonld';
import compactApi from 'jsonld/lib/compact.js';
import contextApi from 'jsonld/lib/context.js';
import { BadRequestData, LdContextNotAvailable } from '../errors.ts';
import { CORE_CONTEXT_URL } from './core.ts';
import type { ContextDocument } from './loader.ts';

/** A context reference as a client gives it: a URL or an inline context object. */
export type ContextRef = string | Record<string, unknown>;

export interface ActiveContext {
  /** The user's context as given (empty for the core context alone), echoed in responses. */
  readonly user: ContextRef[];
  /** Expands a term, compact IRI or IRI to an absolute IRI (types and attribute names use @vocab). */
  expand(term: string): string;
  /** Compacts an absolute IRI to the shortest term of this context. */
  compact(iri: string): string;
}

type Loader = (url: string) => Promise<ContextDocument>;

const CACHE_SIZE = 256;

/** jsonld.js's public context processing (missing from its type definitions). */
const processContext = (
  jsonld as unknown as {
    processContext(active: unknown, local: unknown, options: { documentLoader: Loader }): Promise<unknown>;
  }
).processContext;

function unwrapLoaderError(error: unknown): unknown {
  let current: unknown = error;
  for (let i = 0; i < 5 && current; i++) {
    if (current instanceof LdContextNotAvailable) {
      return current;
    }
    const next =
      (current as { details?: { cause?: unknown }; cause?: unknown }).details?.cause ??
      (current as { cause?: unknown }).cause;
    current = next;
  }
  return undefined;
}

interface CacheEntry {
  pending: Promise<ActiveContext>;
  /** Every context URL loaded to build it, nested ones included. */
  urls: Set<string>;
}

export class ContextResolver {
  readonly #loader: Loader;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(loader: Loader) {
    this.#loader = loader;
  }

  /**
   * Processes the user context with the core context appended.
   * @throws LdContextNotAvailable when a remote context cannot be had, BadRequestData when it is invalid
   */
  resolve(user: ContextRef[]): Promise<ActiveContext> {
    const key = JSON.stringify(user);
    const cached = this.#cache.get(key);
    if (cached) {
      // Refresh its place so the least recently used entry is the one dropped.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached.pending;
    }
    const urls = new Set<string>();
    const entry: CacheEntry = { pending: this.#process(user, urls), urls };
    this.#cache.set(key, entry);
    entry.pending.catch(() => {
      if (this.#cache.get(key) === entry) {
        this.#cache.delete(key);
      }
    });
    if (this.#cache.size > CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) {
        this.#cache.delete(oldest);
      }
    }
    return entry.pending;
  }

  /**
   * Drops every processed context built from a URL that `names` matches, so the next request loads
   * it again. Only this process's cache: another process of the deployment keeps its copy until the
   * copy is evicted.
   */
  forget(names: (url: string) => boolean): void {
    for (const [key, entry] of this.#cache) {
      if ([...entry.urls].some(names)) {
        this.#cache.delete(key);
      }
    }
  }

  async #process(user: ContextRef[], urls: Set<string>): Promise<ActiveContext> {
    // The URL is noted before loading, so a forget() that races with this load still drops the entry.
    const documentLoader: Loader = (url) => {
      urls.add(url);
      return this.#loader(url);
    };
    let active: unknown;
    try {
      active = await processContext(contextApi.getInitialContext({}), [...user, CORE_CONTEXT_URL], {
        documentLoader,
      });
    } catch (error) {
      const unavailable = unwrapLoaderError(error);
      if (unavailable) {
        throw unavailable;
      }
      throw new BadRequestData(`the @context is not valid JSON-LD: ${(error as Error).message}`);
    }
    return makeActiveContext(active, user);
  }
}

function makeActiveContext(active: unknown, user: ContextRef[]): ActiveContext {
  const expanded = new Map<string, string>();
  const compacted = new Map<string, string>();
  return {
    user,
    expand(term) {
      let iri = expanded.get(term);
      if (iri === undefined) {
        iri = contextApi.expandIri(active, term, { vocab: true }, {}) ?? term;
        expanded.set(term, iri);
      }
      return iri;
    },
    compact(iri) {
      let term = compacted.get(iri);
      if (term === undefined) {
        term = compactApi.compactIri({ activeCtx: active, iri, relativeTo: { vocab: true } });
        compacted.set(iri, term);
      }
      return term;
    },
  };
}

/** The `Link` header value that names a context for a JSON (not JSON-LD) response. */
export function contextLink(url: string): string {
  return `<${url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
}

/**
 * Reads the context URL from a request's `Link` header (ETSI GS CIM 009 §6.3.5).
 * @throws BadRequestData when there is more than one context link
 */
export function contextFromLinkHeader(header: string | undefined): string | undefined {
  if (!header) {
    return undefined;
  }
  const links = header
    .split(/,(?=\s*<)/)
    .map((part) => /^\s*<([^>]*)>(.*)$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter((m) => /rel\s*=\s*"?http:\/\/www\.w3\.org\/ns\/json-ld#context"?/.test(m[2] ?? ''));
  if (links.length > 1) {
    throw new BadRequestData('a request may carry only one JSON-LD context Link header');
  }
  return links[0]?.[1];
}
