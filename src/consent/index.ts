/**
 * Consent: data categories, purposes, service requests and their legal basis, consent records, and
 * the one policy decision point (`decide`, `decideMany`) every module asks before using personal data.
 * It never caches an allow, never edits a record's history, and never reads another capability's tables.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/index.ts';

export {
  ACCESS_ACTIONS,
  type AccessAction,
  type AccessActor,
  type AccessDecision,
  type AccessEntry,
  type AccessRecord,
  appendAccess,
  appendAccessMany,
  listAccessLog,
} from './access-log.ts';
export {
  type Checkpoint,
  type CheckpointSigner,
  checkpointSigner,
  writeCheckpoint,
} from './access-log-checkpoint.ts';
export {
  type AccessNames,
  describeAccess,
  jstMinute,
  type Language,
  type LocalName,
} from './access-log-describe.ts';
export {
  CHECKPOINT_QUEUE,
  checkpointJobHandlers,
  expireAllConsents,
  startCheckpoints,
} from './access-log-jobs.ts';
export {
  type BrokenLink,
  formatBrokenLink,
  type VerifyReport,
  verifyAccessLog,
} from './access-log-verify.ts';
export {
  type CategoriesOf,
  categoriesOf,
  definePurpose,
  listCategories,
  listPurposes,
  mapCategory,
} from './catalogue.ts';
export { type Coverage, consentCoverage } from './coverage.ts';
export { decide, decideMany } from './decide.ts';
export { consentReceipt, RECEIPT_SCHEMA, RECEIPT_TYPE, type ReceiptContext } from './receipt.ts';
export {
  expireConsents,
  findConsentText,
  listConsents,
  recordConsent,
  textHash,
  withdrawConsent,
} from './records.ts';
export { currentServiceRequest, declareServiceRequest, effectiveBasis } from './requests.ts';
export {
  defineLegalHold,
  type Held,
  heldEntities,
  type LegalHold,
  listResidentRequests,
  type Provision,
  RESIDENT_REQUESTS,
  type ResidentRequest,
  type ResidentRequestKind,
  recordResidentRequest,
  thirdPartyProvisions,
} from './rights.ts';
export * from './types.ts';

export const consentMigrations: MigrationSource = {
  capability: 'consent',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
