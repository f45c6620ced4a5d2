/**
 * What every broker request needs before it acts: its tenant, its active @context, the caller and
 * the access policy it is judged by, and the authorisation decision for the action it asks for.
 * The helpers below are how routes put authorise.ts's decision on each entity and query.
 */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DataKeys, Db, Queryable } from '../../platform/index.ts';
import {
  type AccessPolicy,
  authorise,
  type BrokerAction,
  type BrokerResource,
  type Caller,
  readableTypes,
  restrictionSql,
  restricts,
} from '../authorise.ts';
import type { BrokerConfig } from '../config.ts';
import type { ActiveContext, ContextResolver } from '../context/json-ld.ts';
import type { EntityCache } from '../entities/cache.ts';
import type { StoredEntity } from '../entities/model.ts';
import { findEntity } from '../entities/store.ts';
import { InvalidRequest } from '../errors.ts';
import { type Withdrawn, WithdrawnAccess } from '../personal-withdrawn.ts';
import { resolveTenant } from '../tenant.ts';
import { typeRules } from '../type-access.ts';
import { requestContext } from './negotiate.ts';

export interface BrokerContext {
  db: Db;
  config: BrokerConfig;
  contexts: ContextResolver;
  /** Entities read by id, kept in memory (entity routes only). */
  cache?: EntityCache;
  /** The tenants' data keys, which seal and open sensitive attributes of personal entities. */
  keys?: DataKeys;
}

/** Who acts on which tenant, under which policy: enough to judge any entity. */
export interface AccessScope {
  tenant: string;
  caller: Caller;
  policy: AccessPolicy;
  /** Why the caller uses the data (`Machi-Purpose`, a purpose of the tenant's catalogue): personal data needs it. */
  purpose?: string | undefined;
  /** The data keys that seal and open sensitive attributes (sealed.ts); personal entities need them. */
  keys?: DataKeys | undefined;
}

const PURPOSE = /^[a-z][a-z0-9-]{0,62}$/;

/** The `Machi-Purpose` header, checked. */
function purposeOf(request: FastifyRequest): string | undefined {
  const header = request.headers['machi-purpose'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (!PURPOSE.test(value)) {
    throw new InvalidRequest(
      "Machi-Purpose must name a purpose of the municipality's catalogue (lowercase letters, digits, hyphens)",
    );
  }
  return value;
}

export interface RequestScope extends AccessScope {
  ctx: ActiveContext;
}

/**
 * Who a request's bearer token says is calling; anonymous without one. Throws for a bad token;
 * `WithdrawnAccess` for a token that ended with a resident's consent (the attempt is then logged).
 */
export type Authenticate = (request: FastifyRequest) => Promise<Caller>;

const callers = new WeakMap<FastifyRequest, Caller>();

/**
 * Names the caller of every request before anything is parsed (a bad token is refused before a
 * large body is read). The composition root passes identity's verification in; without it every
 * caller is anonymous.
 */
export function authenticateRequests(
  app: FastifyInstance,
  authenticate: Authenticate | undefined,
  onWithdrawn?: (request: FastifyRequest, withdrawn: Withdrawn) => Promise<void>,
): void {
  if (!authenticate) return;
  app.addHook('onRequest', async (request) => {
    try {
      callers.set(request, await authenticate(request));
    } catch (error) {
      if (!(error instanceof WithdrawnAccess)) throw error;
      await onWithdrawn?.(request, error.withdrawn).catch((failure: unknown) =>
        request.log.warn({ err: failure }, 'a refused use of withdrawn consent was not logged'),
      );
      throw error.refusal;
    }
  });
}

/** The caller of a request, as `authenticateRequests` named it. */
export function callerOf(request: FastifyRequest): Caller {
  return callers.get(request) ?? {};
}

/** The tenant, caller and policy of a request, and the decision on its action as such. */
export async function accessScope(
  broker: BrokerContext,
  request: FastifyRequest,
  action: BrokerAction,
  resource: BrokerResource = 'entities',
): Promise<AccessScope> {
  const tenantHeader = request.headers['ngsild-tenant'];
  const tenant = await resolveTenant(
    broker.db,
    Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader,
    broker.config.defaultTenant,
  );
  const caller = callerOf(request);
  const policy = { auth: broker.config.auth, rules: await typeRules(broker.db, tenant) };
  authorise({ caller, tenant, action, resource }, policy);
  return { tenant, caller, policy, purpose: purposeOf(request), keys: broker.keys };
}

export async function requestScope(
  broker: BrokerContext,
  request: FastifyRequest,
  action: BrokerAction,
  resource: BrokerResource = 'entities',
): Promise<RequestScope> {
  const access = await accessScope(broker, request, action, resource);
  const ctx = await broker.contexts.resolve(requestContext(request));
  return { ...access, ctx };
}

/**
 * The decision on one entity. `stored` types were read from the store (a refusal then answers as
 * if the entity did not exist); otherwise the caller gave them.
 * @throws as authorise does
 */
export function checkEntity(
  scope: AccessScope,
  action: BrokerAction,
  entity: { id: string; types: readonly string[]; stored?: boolean },
  notFound?: string,
): void {
  authorise({ caller: scope.caller, tenant: scope.tenant, action, entity, notFound }, scope.policy);
}

/**
 * An entity change (for modifyEntity) that is only made when the caller may write the entity as it
 * is stored and as the change leaves it (a change may add a type).
 */
export function guardedChange<M extends { after: StoredEntity }>(
  scope: AccessScope,
  change: (before: StoredEntity, now: string) => M,
): (before: StoredEntity, now: string) => M {
  return (before, now) => {
    checkEntity(scope, 'write', { id: before.id, types: before.types, stored: true });
    const result = change(before, now);
    checkEntity(scope, 'write', { id: before.id, types: result.after.types });
    return result;
  };
}

/**
 * The SQL condition that keeps a query to the entities the caller may read (over a `text[]` column
 * of types, `e.types` by default); undefined when nothing is kept out.
 */
export function readableWhere(
  scope: AccessScope,
  add: (value: unknown) => string,
  column = 'e.types',
): string | undefined {
  return restrictionSql(readableTypes(scope.caller, scope.policy), add, column);
}

/**
 * The decision on an entity the request names by id only, taken on its stored types (and under
 * its row lock, so they cannot change before the write). Nothing is read when no stored entity
 * could be refused to this caller, which is the common case.
 * @throws ResourceNotFound when the caller may not know that the entity exists
 */
export async function checkStoredEntity(
  tx: Queryable,
  scope: AccessScope,
  id: string,
  action: BrokerAction = 'write',
): Promise<void> {
  if (!restricts(readableTypes(scope.caller, scope.policy))) {
    return;
  }
  const stored = await findEntity(tx, id, true);
  if (stored) {
    checkEntity(scope, action, { id, types: stored.types, stored: true });
  }
}
