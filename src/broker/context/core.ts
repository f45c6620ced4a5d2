/**
 * The NGSI-LD core @context (v1.8), bundled so that no request ever needs the network for it
 * (air-gapped municipal networks are common). Every published version's URL resolves to it.
 */
import fs from 'node:fs';

export const CORE_CONTEXT_URL = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld';

const CORE_URLS = new Set([
  CORE_CONTEXT_URL,
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.5.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld',
]);

export const coreContextDocument: { '@context': Record<string, unknown> } = JSON.parse(
  fs.readFileSync(new URL('./ngsi-ld-core-context-v1.8.jsonld', import.meta.url), 'utf8'),
);

export function isCoreContextUrl(url: string): boolean {
  return CORE_URLS.has(url);
}

/** The IRI prefix of NGSI-LD's own vocabulary and of the default @vocab. */
export const NGSI_LD = 'https://uri.etsi.org/ngsi-ld/';
export const DEFAULT_VOCAB = 'https://uri.etsi.org/ngsi-ld/default-context/';
