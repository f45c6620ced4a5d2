/**
 * Consent: data categories, purposes, service requests and their legal basis, consent records, and
 * the one policy decision point (`decide`, `decideMany`) every module asks before using personal data.
 * It never caches an allow, never edits a record's history, and never reads another capability's tables.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/index.ts';

export {
  type CategoriesOf,
  categoriesOf,
  definePurpose,
  listCategories,
  listPurposes,
  mapCategory,
} from './catalogue.ts';
export { decide, decideMany } from './decide.ts';
export { expireConsents, listConsents, recordConsent, textHash, withdrawConsent } from './records.ts';
export { currentServiceRequest, declareServiceRequest, effectiveBasis } from './requests.ts';
export * from './types.ts';

export const consentMigrations: MigrationSource = {
  capability: 'consent',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
