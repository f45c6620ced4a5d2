/**
 * Where @context documents come from: the bundled core context; contexts stored in
 * `broker.jsonld_contexts`, both those clients gave the broker to host (§5.13.2) and remote ones
 * fetched once by any process, then shared, so a restart needs no refetch; otherwise fetched over
 * HTTP(S) with a timeout and a size limit, then stored. A hosted context is found by its own URL
 * without the network: a broker must never fetch from itself (and often cannot reach its public URL).
 * A remote fetch goes only where the outbound policy allows, redirects included (each checked).
 * Contexts are deployment-wide, not per tenant: they are vocabulary, not data.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type Db,
  OutboundDenied,
  type OutboundPolicy,
  type OutboundResponse,
  outboundRequest,
} from '../../platform/index.ts';
import { LdContextNotAvailable } from '../errors.ts';
import { coreContextDocument, isCoreContextUrl } from './core.ts';

export interface ContextDocument {
  contextUrl: null;
  documentUrl: string;
  document: unknown;
}

export interface LoaderOptions {
  timeoutMs: number;
  maxBytes: number;
  /** This broker's public URL: hosted contexts are served under it, and never fetched from it. */
  publicUrl?: string | undefined;
  /** Where remote contexts may be fetched from. */
  outbound: OutboundPolicy;
}

/** Redirects a remote context may go through, each to a destination the outbound policy allows. */
const MAX_REDIRECTS = 5;

export type ContextKind = 'cached' | 'hosted';

/** A stored @context's metadata (ContextInfo, §5.13.3.5, without its document). */
export interface StoredContext {
  url: string;
  localId: string;
  kind: ContextKind;
  /** When it was hosted, or when the copy now held was fetched. */
  createdAt: Date;
}

const CONTEXTS_PATH = '/ngsi-ld/v1/jsonldContexts/';

/** The URL clients name a hosted context by (in a Link header or an @context array). */
export function hostedContextUrl(publicUrl: string, localId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${CONTEXTS_PATH}${encodeURIComponent(localId)}`;
}

/**
 * The local id in a URL shaped like a hosted context's, whatever host name it uses: behind a proxy or
 * inside a container network, clients may reach the broker by a name other than its public URL.
 */
function hostedLocalId(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const rest = path.startsWith(CONTEXTS_PATH) ? path.slice(CONTEXTS_PATH.length) : '';
  return rest && !rest.includes('/') ? decodeURIComponent(rest) : undefined;
}

async function fetchContext(url: string, options: LoaderOptions): Promise<unknown> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LdContextNotAvailable(`@context ${url} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new LdContextNotAvailable(`@context ${url} must be an http(s) URL`);
  }
  let response: OutboundResponse;
  try {
    response = await outboundRequest(options.outbound, parsed, {
      headers: { accept: 'application/ld+json, application/json;q=0.9' },
      signal: AbortSignal.timeout(options.timeoutMs),
      maxRedirects: MAX_REDIRECTS,
    });
  } catch (error) {
    if (error instanceof OutboundDenied) {
      throw new LdContextNotAvailable(`@context ${url} is not fetched: ${error.message}`);
    }
    throw new LdContextNotAvailable(`@context ${url} could not be fetched: ${(error as Error).message}`);
  }
  if (response.status < 200 || response.status > 299) {
    response.body.destroy();
    throw new LdContextNotAvailable(`@context ${url} answered ${response.status}`);
  }
  const text = await readLimited(response.body, options.maxBytes, url, options.timeoutMs);
  try {
    return JSON.parse(text);
  } catch {
    throw new LdContextNotAvailable(`@context ${url} is not JSON`);
  }
}

async function readLimited(
  body: IncomingMessage,
  maxBytes: number,
  url: string,
  timeoutMs: number,
): Promise<string> {
  const tooLarge = () => new LdContextNotAvailable(`@context ${url} is larger than ${maxBytes} bytes`);
  if (Number(body.headers['content-length'] ?? 0) > maxBytes) {
    body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof LdContextNotAvailable) {
      throw error;
    }
    const why =
      (error as Error).name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new LdContextNotAvailable(`@context ${url} could not be read: ${why}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a client's context URL names this stored context (a hosted one under any host name). */
export function namesStoredContext(url: string, stored: StoredContext): boolean {
  return url === stored.url || (stored.kind === 'hosted' && hostedLocalId(url) === stored.localId);
}

/** A stored document by its URL, or a hosted one by the local id its URL ends in. */
async function storedBody(db: Db, url: string): Promise<{ body: unknown } | undefined> {
  const { rows } = await db.query<{ body: unknown }>(
    `select body from broker.jsonld_contexts
      where url = $1 or (kind = 'hosted' and local_id = $2)
      order by url = $1 desc limit 1`,
    [url, hostedLocalId(url) ?? null],
  );
  return rows[0];
}

/** A jsonld.js document loader backed by the bundled core context, the database and the network. */
export function createDocumentLoader(db: Db, options: LoaderOptions) {
  const ownPrefix = options.publicUrl ? hostedContextUrl(options.publicUrl, '') : undefined;
  return async function loadDocument(url: string): Promise<ContextDocument> {
    if (isCoreContextUrl(url)) {
      return { contextUrl: null, documentUrl: url, document: coreContextDocument };
    }
    const stored = await storedBody(db, url);
    if (stored) {
      return { contextUrl: null, documentUrl: url, document: stored.body };
    }
    if (ownPrefix && url.startsWith(ownPrefix)) {
      throw new LdContextNotAvailable(`@context ${url} is not hosted by this broker (deleted?)`);
    }
    const document = await fetchContext(url, options);
    await db.query(
      `insert into broker.jsonld_contexts (url, body, kind, fetched_at) values ($1, $2, 'cached', now())
       on conflict (url) do nothing`,
      [url, JSON.stringify(document)],
    );
    return { contextUrl: null, documentUrl: url, document };
  };
}

interface ContextRow {
  url: string;
  local_id: string;
  kind: ContextKind;
  fetched_at: Date;
}

const toStored = (r: ContextRow): StoredContext => ({
  url: r.url,
  localId: r.local_id,
  kind: r.kind,
  createdAt: r.fetched_at,
});

/** Stores a context document to be served by this broker (§5.13.2). */
export async function hostContext(db: Db, document: unknown, publicUrl: string): Promise<StoredContext> {
  const localId = randomUUID();
  const { rows } = await db.query<ContextRow>(
    `insert into broker.jsonld_contexts (url, local_id, body, kind) values ($1, $2, $3, 'hosted')
     returning url, local_id, kind, fetched_at`,
    [hostedContextUrl(publicUrl, localId), localId, JSON.stringify(document)],
  );
  return toStored(rows[0] as ContextRow);
}

export async function listStoredContexts(db: Db, kind?: ContextKind): Promise<StoredContext[]> {
  const { rows } = await db.query<ContextRow>(
    `select url, local_id, kind, fetched_at from broker.jsonld_contexts
      where $1::text is null or kind = $1 order by fetched_at, url`,
    [kind ?? null],
  );
  return rows.map(toStored);
}

/** A stored context by local id, or a cached one by the URL it was fetched from (§5.13.4, §5.13.5). */
export async function findStoredContext(
  db: Db,
  id: string,
): Promise<(StoredContext & { document: unknown }) | undefined> {
  const { rows } = await db.query<ContextRow & { body: unknown }>(
    `select url, local_id, kind, fetched_at, body from broker.jsonld_contexts
      where local_id = $1 or (kind = 'cached' and url = $1) limit 1`,
    [id],
  );
  const row = rows[0];
  return row && { ...toStored(row), document: row.body };
}

export async function removeStoredContext(db: Db, url: string): Promise<void> {
  await db.query('delete from broker.jsonld_contexts where url = $1', [url]);
}

/**
 * Fetches a cached context again and keeps the fresh copy (§5.13.5, reload=true); when the fetch
 * fails the old copy stays, so clients that use it keep working.
 * @throws LdContextNotAvailable when it cannot be fetched
 */
export async function reloadCachedContext(db: Db, url: string, options: LoaderOptions): Promise<void> {
  const document = await fetchContext(url, options);
  await db.query(`update broker.jsonld_contexts set body = $2, fetched_at = now() where url = $1`, [
    url,
    JSON.stringify(document),
  ]);
}
