/**
 * Where @context documents come from: the bundled core context; contexts stored in
 * `broker.jsonld_contexts` (fetched once by any process, then shared, so a restart needs no refetch);
 * otherwise fetched over HTTP(S) with a timeout and a size limit, then stored.
 */
import type { Db } from '../../platform/index.ts';
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
  let response: Response;
  try {
    response = await fetch(parsed, {
      headers: { accept: 'application/ld+json, application/json;q=0.9' },
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    throw new LdContextNotAvailable(`@context ${url} could not be fetched: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new LdContextNotAvailable(`@context ${url} answered ${response.status}`);
  }
  const text = await readLimited(response, options.maxBytes, url);
  try {
    return JSON.parse(text);
  } catch {
    throw new LdContextNotAvailable(`@context ${url} is not JSON`);
  }
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    throw new LdContextNotAvailable(`@context ${url} is larger than ${maxBytes} bytes`);
  }
  const reader = response.body?.getReader();
  if (!reader) {
    return '';
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new LdContextNotAvailable(`@context ${url} is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A jsonld.js document loader backed by the bundled core context, the database and the network. */
export function createDocumentLoader(db: Db, options: LoaderOptions) {
  return async function loadDocument(url: string): Promise<ContextDocument> {
    if (isCoreContextUrl(url)) {
      return { contextUrl: null, documentUrl: url, document: coreContextDocument };
    }
    const stored = await db.query<{ body: unknown }>(
      'select body from broker.jsonld_contexts where url = $1',
      [url],
    );
    if (stored.rows[0]) {
      return { contextUrl: null, documentUrl: url, document: stored.rows[0].body };
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
