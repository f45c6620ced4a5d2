/**
 * The broker's one way to get a context resolver: the bundled core context, the database's stored
 * contexts and the network, with the configured limits. Routes, the job worker and importers share it.
 */
import type { Db, OutboundPolicy } from '../../platform/index.ts';
import type { BrokerConfig } from '../config.ts';
import { ContextResolver } from './json-ld.ts';
import { createDocumentLoader } from './loader.ts';

export function contextResolver(
  db: Db,
  config: Pick<BrokerConfig, 'contextTimeoutMs' | 'contextMaxBytes'>,
  outbound: OutboundPolicy,
  publicUrl?: string,
): ContextResolver {
  return new ContextResolver(
    createDocumentLoader(db, {
      timeoutMs: config.contextTimeoutMs,
      maxBytes: config.contextMaxBytes,
      publicUrl,
      outbound,
    }),
  );
}
