/**
 * The one policy decision point: may this service, or this staff member, read or write this category
 * of this resident's data for this purpose now? Every module asks here and decides nothing alone.
 * Each call reads the database (policy-store.ts); no allow is ever cached. The reasons are machine
 * codes, listed in docs/consent.md.
 */
import { BadRequest, type Queryable } from '../platform/index.ts';
import {
  type ClientFacts,
  clientFacts,
  clientFactsMany,
  type ItemFacts,
  staffFacts,
} from './policy-store.ts';
import { assertAccountId } from './records.ts';
import type { Actor, Decision, DecisionRequest, ManyDecision, ManyRequest } from './types.ts';

const deny = (reason: string): Decision => ({ allow: false, reason });

function checkRequest(input: Omit<DecisionRequest, 'resident'>): void {
  if (input.action !== 'read' && input.action !== 'write') {
    throw new BadRequest('the action is read or write');
  }
  if (input.actor.kind === 'client' && input.actor.clientId.trim() === '') {
    throw new BadRequest('a client actor names its client id');
  }
}

/** The denial an item's facts call for, before any record is looked at. */
function itemDenial(facts: ItemFacts): Decision | undefined {
  if (!facts.inTenant) return deny('tenant-mismatch');
  if (!facts.categoryKnown) return deny('unknown-category');
  if (!facts.hasRequest) return deny('no-service-request');
  if (facts.basis === null) return deny('not-requested');
  if (!facts.actionOk) return deny('action-not-requested');
  return undefined;
}

function clientDecision(facts: ClientFacts): Decision {
  const denied = itemDenial(facts);
  if (denied) return denied;
  if (facts.basis !== 'consent') {
    return { allow: true, reason: 'declared-basis', basis: facts.basis ?? undefined };
  }
  if (facts.recordId === null) return deny('no-consent');
  const consentId = facts.recordId;
  if (!facts.covers) return { ...deny('consent-outdated'), consentId };
  if (facts.state !== 'given') return { ...deny(`consent-${facts.state}`), consentId };
  return { allow: true, reason: 'consent', basis: 'consent', consentId };
}

type Staff = Extract<Actor, { kind: 'staff' }>;

/** Staff need a role that reaches the category and a purpose from the catalogue, stated for this use. */
async function staffDecision(tx: Queryable, input: Omit<DecisionRequest, 'resident'>, staff: Staff) {
  const stated = staff.statedPurpose?.trim();
  if (!stated) return deny('staff-no-purpose');
  if (stated !== input.purpose) return deny('staff-purpose-mismatch');
  const facts = await staffFacts(tx, {
    tenant: input.tenant,
    category: input.category,
    roles: staff.roles,
    purpose: stated,
  });
  if (!facts.inTenant) return deny('tenant-mismatch');
  if (!facts.categoryKnown) return deny('unknown-category');
  if (!facts.purposeKnown) return deny('staff-purpose-unknown');
  if (!facts.roleAllows) return deny('staff-role-not-allowed');
  return { allow: true, reason: 'staff-role' };
}

/**
 * Decides one use of one resident's data. `tx` must be a transaction of `tenant` (db.withTenant):
 * a transaction of any other tenant, or of none, is denied.
 */
export async function decide(tx: Queryable, input: DecisionRequest): Promise<Decision> {
  checkRequest(input);
  assertAccountId(input.resident);
  if (input.actor.kind === 'staff') {
    return staffDecision(tx, input, input.actor);
  }
  const facts = await clientFacts(
    tx,
    { ...input, clientId: input.actor.clientId, at: input.at },
    input.resident,
  );
  return clientDecision(facts);
}

/**
 * Decides one use over many residents in one statement: the residents whose consent covers it (of
 * `residents`, when given), for the broker to filter a query by. A basis other than consent, or a
 * staff member allowed, reaches every resident (`everyone`).
 */
export async function decideMany(tx: Queryable, input: ManyRequest): Promise<ManyDecision> {
  checkRequest(input);
  for (const resident of input.residents ?? []) assertAccountId(resident);
  const given = input.residents ? [...input.residents] : [];
  if (input.actor.kind === 'staff') {
    const decision = await staffDecision(tx, input, input.actor);
    return { ...decision, everyone: decision.allow, residents: decision.allow ? given : [] };
  }
  const facts = await clientFactsMany(
    tx,
    { ...input, clientId: input.actor.clientId, at: input.at },
    input.residents,
  );
  const denied = itemDenial(facts);
  if (denied) return { ...denied, everyone: false, residents: [] };
  if (facts.basis !== 'consent') {
    return {
      allow: true,
      reason: 'declared-basis',
      basis: facts.basis ?? undefined,
      everyone: true,
      residents: given,
    };
  }
  const residents = facts.residents ?? [];
  return {
    allow: residents.length > 0,
    reason: residents.length > 0 ? 'consent' : 'no-consent',
    basis: 'consent',
    everyone: false,
    residents,
  };
}
