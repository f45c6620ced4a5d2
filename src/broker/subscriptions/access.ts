/**
 * Subscriptions under authorise.ts: a subscription may ask only for entity types its creator may
 * read, and every notification is authorised as a read by its creator (the subscription's `owner`)
 * when it is sent, under the policy of that moment. So a subscription never delivers personal
 * entities, nor, with MACHI_AUTH=on and an anonymous creator, entities of non-public types, even when
 * its selectors (an idPattern, watchedAttributes alone) would match them, or when a type was marked
 * after the subscription was made.
 */
import type { Db } from '../../platform/index.ts';
import {
  type AccessPolicy,
  authorise,
  type Caller,
  isAuthorised,
  readableTypes,
  restrictionSql,
} from '../authorise.ts';
import type { StoredEntity } from '../entities/model.ts';
import type { AccessScope } from '../http/scope.ts';
import { typeRules } from '../type-access.ts';
import type { Subscription, SubscriptionSpec } from './model.ts';

export interface NotifierAccess {
  db: Db;
  auth: 'on' | 'off';
}

/**
 * The types a subscription names, each one a type its creator must be able to read: asking to be
 * told about personal entities is refused with the reason, like a write of one.
 * @throws Unauthorized or ConsentRequired
 */
export function checkSubscribable(scope: AccessScope, spec: SubscriptionSpec): void {
  for (const type of new Set((spec.entities ?? []).flatMap((e) => e.types))) {
    const entity = { id: spec.id, types: [type] };
    authorise({ caller: scope.caller, tenant: scope.tenant, action: 'read', entity }, scope.policy);
  }
}

function ownerOf(sub: Subscription): Caller {
  return sub.owner === undefined ? {} : { subject: sub.owner };
}

/** The policy notifications are judged by now (load it outside the tenant's transaction). */
export async function policyNow(deps: NotifierAccess, tenant: string): Promise<AccessPolicy> {
  return { auth: deps.auth, rules: await typeRules(deps.db, tenant) };
}

/** Whether the subscription's creator may be sent this entity now. */
export async function mayNotify(
  deps: NotifierAccess,
  tenant: string,
  sub: Subscription,
  entity: StoredEntity,
): Promise<boolean> {
  const request = {
    caller: ownerOf(sub),
    tenant,
    action: 'read' as const,
    entity: { id: entity.id, types: entity.types, stored: true },
  };
  return isAuthorised(request, await policyNow(deps, tenant));
}

/** The SQL condition (on `e.types`) that keeps a periodic notification to what its creator may read. */
export function readableBySubscriber(
  sub: Subscription,
  policy: AccessPolicy,
  add: (value: unknown) => string,
): string | undefined {
  return restrictionSql(readableTypes(ownerOf(sub), policy), add);
}
