/**
 * Consent records: given against the current version of a service's request, for all or part of
 * its consent-based items, with the exact text shown; withdrawn at once; never edited.
 */
import { createHash } from 'node:crypto';
import { BadRequest, Conflict, NotFound, type Queryable } from '../platform/index.ts';
import { listCategories } from './catalogue.ts';
import {
  insertExpiries,
  insertRecord,
  insertText,
  insertWithdrawals,
  recordExists,
  selectRecords,
  selectText,
  supersedeRecords,
} from './record-store.ts';
import { effectiveBasis } from './requests.ts';
import { selectServiceRequest } from './store.ts';
import type { ConsentRecord, ConsentText, NewConsent, ServiceRequest, StoredItem } from './types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** @throws BadRequest when the value is not a resident's account id */
export function assertAccountId(value: string, what = 'resident'): void {
  if (!UUID.test(value)) {
    throw new BadRequest(`the ${what} must be an account id (a UUID)`);
  }
}

/** The SHA-256 of a consent text, hex: what a record holds to prove which text was shown. */
export function textHash(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** The request items granted, checked against the request: each asked for, each needing consent. */
async function grantedItems(
  tx: Queryable,
  request: ServiceRequest,
  input: NewConsent,
): Promise<StoredItem[]> {
  // An answer granting nothing is a record too: it proves the resident was asked, and it ends what
  // they granted the service before (docs/consent.md).
  const categories = await listCategories(tx);
  const granted: StoredItem[] = [];
  for (const wanted of input.items) {
    const item = request.items.find((i) => i.category === wanted.category && i.purpose === wanted.purpose);
    if (!item) {
      throw new BadRequest(`${request.clientId} does not ask for ${wanted.category} for ${wanted.purpose}`);
    }
    const sensitive = categories.find((c) => c.code === item.category)?.sensitive ?? true;
    if (effectiveBasis(sensitive, request.controllerKind, item.legalBasis) !== 'consent') {
      throw new BadRequest(
        `${item.category} for ${item.purpose} is processed as ${item.legalBasis}, not on consent; nothing to grant`,
      );
    }
    if (granted.includes(item)) {
      throw new BadRequest(`${item.category} for ${item.purpose} is granted twice`);
    }
    granted.push(item);
  }
  return granted;
}

function checkInput(input: NewConsent): void {
  assertAccountId(input.resident);
  if (input.subject.trim() === '') {
    throw new BadRequest('a consent record names the pairwise subject the service knows the resident by');
  }
  if (
    input.text.body.trim() === '' ||
    input.text.version.trim() === '' ||
    input.text.language.trim() === ''
  ) {
    throw new BadRequest('a consent record keeps the text shown: its body, version and language');
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new BadRequest('a consent cannot expire before it is given');
  }
}

/**
 * Records a resident's answer to a service's current request: consent to all, part or none of its
 * consent-based items. It supersedes the resident's earlier records for that service: what was not
 * granted again is no longer granted.
 * @throws Conflict when the request has a newer version than the one the resident was shown
 */
export async function recordConsent(tx: Queryable, input: NewConsent): Promise<ConsentRecord> {
  checkInput(input);
  const request = await selectServiceRequest(tx, input.tenant, input.clientId);
  if (!request) {
    throw new NotFound(`${input.clientId} has declared no service request`);
  }
  if (request.version !== input.requestVersion) {
    throw new Conflict(
      `${input.clientId}'s request is at version ${request.version}, not ${input.requestVersion}; ask the resident again`,
    );
  }
  const items = await grantedItems(tx, request, input);
  const sha256 = textHash(input.text.body);
  await insertText(tx, input.tenant, { ...input.text, sha256 });
  await supersedeRecords(tx, input.tenant, input.resident, input.clientId);
  const id = await insertRecord(tx, input.tenant, {
    resident: input.resident,
    subject: input.subject,
    clientId: input.clientId,
    controller: request.controller,
    requestVersion: request.version,
    textSha256: sha256,
    textVersion: input.text.version,
    method: input.method ?? 'web-form',
    expiresAt: input.expiresAt ?? null,
    items,
  });
  const records = await selectRecords(tx, input.tenant, input.resident);
  return records.find((r) => r.id === id) as ConsentRecord;
}

/**
 * Withdraws one record, or every record the resident gave a service; it takes effect on the very
 * next decision. Returns the records ended and their services (whose OIDC grants the caller revokes).
 * @throws NotFound for a record that is not the resident's (the same answer as for none)
 */
export async function withdrawConsent(
  tx: Queryable,
  input: { tenant: string; resident: string; consentId?: string; clientId?: string },
): Promise<{ withdrawn: string[]; clientIds: string[] }> {
  assertAccountId(input.resident);
  if (input.consentId === undefined && input.clientId === undefined) {
    throw new BadRequest('name the consent record or the service to withdraw from');
  }
  if (input.consentId !== undefined) {
    assertAccountId(input.consentId, 'consent id');
    if (!(await recordExists(tx, input.tenant, input.resident, input.consentId))) {
      throw new NotFound(`no consent record ${input.consentId}`);
    }
  }
  const ended = await insertWithdrawals(tx, input.tenant, input.resident, input);
  return { withdrawn: ended.map((e) => e.id), clientIds: [...new Set(ended.map((e) => e.clientId))] };
}

/** A text residents were shown, by its SHA-256 (and version label); undefined when none. */
export function findConsentText(
  tx: Queryable,
  tenant: string,
  sha256: string,
  version?: string,
): Promise<(ConsentText & { sha256: string }) | undefined> {
  return selectText(tx, tenant, sha256, version);
}

/** The resident's consent records in the tenant, newest first, each with its state now and its history. */
export function listConsents(
  tx: Queryable,
  input: { tenant: string; resident: string },
): Promise<ConsentRecord[]> {
  assertAccountId(input.resident);
  return selectRecords(tx, input.tenant, input.resident);
}

/**
 * Writes `expired` into the history of records whose time has run out. Decisions do not wait for it
 * (they compare the expiry themselves); this keeps the history complete for the resident to read.
 */
export function expireConsents(tx: Queryable, tenant: string): Promise<number> {
  return insertExpiries(tx, tenant);
}
