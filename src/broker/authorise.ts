/**
 * The one authorisation decision for every broker read and write. Identity (who is calling) and
 * consent (personal entities) fill it in; nothing else in the broker decides who may do what: routes,
 * queries, discovery, subscriptions and the temporal API all ask here, through `authorise` for one
 * action or entity and `readableTypes` for the same rule as a condition a query applies.
 *
 * The rules, given the deployment's MACHI_AUTH and the tenant's classes of entity types
 * (type-access.ts: `public`, `personal`, or neither):
 * - personal types are reachable by nobody without a token, and with one only under the resident's
 *   consent; the consent capability does not exist yet, so today nobody reaches them;
 * - with MACHI_AUTH=on an anonymous caller reads entities whose every type is public, and writes
 *   nothing; a caller with a token reads and writes every non-personal entity;
 * - with MACHI_AUTH=off (loopback only) an anonymous caller reads and writes non-personal entities.
 * An entity with several types takes the strictest: any personal type makes it personal, and it is
 * public only when all of its types are, so adding a type can never expose an entity.
 *
 * A refused read answers ResourceNotFound, exactly as if the entity did not exist, and so does a
 * refused write of an entity the caller did not describe (its stored types decided): neither tells
 * the caller that the entity exists (DESIGN.md, STYLE.md "Not found or no access"). A write whose
 * types the caller gave itself is refused with the reason (a token, or consent, is needed).
 */
import { AppError, ConsentRequired, Forbidden, Unauthorized } from '../platform/index.ts';
import { ResourceNotFound } from './errors.ts';

export type BrokerAction = 'read' | 'write';

/** What is acted on: entities (and their history), subscriptions, or the deployment's @context store. */
export type BrokerResource = 'entities' | 'subscriptions' | 'contexts';

export interface Caller {
  /**
   * Who holds the bearer token from Machi's identity provider, verified (the service's client id);
   * undefined for an anonymous caller. Set by the composition root's `authenticate` (http/scope.ts).
   */
  subject?: string;
  /** The service's name as registered, for the residents' access logs. */
  name?: string;
  /** The resident the token acts for; undefined when a service acts as itself. */
  accountId?: string;
  /**
   * The tenants the token's service belongs to and may act in (its municipality, or a prefecture
   * and its municipalities); undefined when it is not confined (anonymous callers, subscriptions).
   */
  tenants?: (tenant: string) => boolean;
}

/** A tenant's classes of entity types, as expanded IRIs; a type in neither set is ordinary. */
export interface TypeRules {
  public: ReadonlySet<string>;
  personal: ReadonlySet<string>;
}

/** What a decision is made against: the deployment's MACHI_AUTH and the tenant's type classes. */
export interface AccessPolicy {
  auth: 'on' | 'off';
  rules: TypeRules;
}

export interface AccessRequest {
  caller: Caller;
  tenant: string;
  action: BrokerAction;
  /** Default `entities`. */
  resource?: BrokerResource;
  /**
   * The entity concerned, with its expanded types. `stored` when the types were read from the store
   * rather than given by the caller: a refusal then answers as if the entity did not exist.
   */
  entity?: { id: string; types: readonly string[]; stored?: boolean };
  /** The not-found detail a hidden entity answers with (default `no entity <id>`). */
  notFound?: string;
}

/**
 * Which entities a caller may read — and, once `authorise` let the write through, write: the rule
 * above as two lists of types, so that a query applies it in SQL (`restrictionSql`) and a single
 * entity is judged by exactly the same rule (`permits`).
 */
export interface TypeRestriction {
  /** When set, an entity qualifies only if every one of its types is in this list. */
  onlyTypes?: readonly string[];
  /** An entity with any of these types never qualifies. */
  neverTypes: readonly string[];
}

const WRITE_NEEDS_TOKEN = "writing to the broker needs a bearer token from this Machi's identity provider";

/** The entities this caller may reach in this tenant, as a condition on their types. */
export function readableTypes(caller: Caller, policy: AccessPolicy): TypeRestriction {
  // Personal types: nobody, whatever MACHI_AUTH says. With a token they will need the resident's
  // consent: the consent capability plugs in here, replacing this blanket refusal by the entities
  // its policy decision point allows this caller for its purpose (and logging each access).
  const neverTypes = [...policy.rules.personal];
  if (!caller.subject && policy.auth === 'on') {
    return { onlyTypes: [...policy.rules.public], neverTypes };
  }
  return { neverTypes };
}

/** Whether the restriction keeps any entity out at all. */
export function restricts(restriction: TypeRestriction): boolean {
  return restriction.neverTypes.length > 0 || restriction.onlyTypes !== undefined;
}

/** Whether an entity with these types meets the restriction. */
export function permits(restriction: TypeRestriction, types: readonly string[]): boolean {
  if (types.some((t) => restriction.neverTypes.includes(t))) {
    return false;
  }
  return !restriction.onlyTypes || types.every((t) => restriction.onlyTypes?.includes(t));
}

/**
 * The restriction as a SQL condition on a `text[]` column of expanded types (e.g. `e.types`), its
 * values added through `add` (SqlParams.add); undefined when it restricts nothing.
 */
export function restrictionSql(
  restriction: TypeRestriction,
  add: (value: unknown) => string,
  column = 'e.types',
): string | undefined {
  const parts: string[] = [];
  if (restriction.neverTypes.length > 0) {
    parts.push(`not (${column} && ${add(restriction.neverTypes)}::text[])`);
  }
  if (restriction.onlyTypes) {
    parts.push(`${column} <@ ${add(restriction.onlyTypes)}::text[]`);
  }
  return parts.length ? `(${parts.join(' and ')})` : undefined;
}

/** The refusal of an entity the caller described itself: it says what is missing. */
function refusal(caller: Caller, policy: AccessPolicy, types: readonly string[]): AppError {
  const personal = types.filter((t) => policy.rules.personal.has(t));
  if (personal.length > 0) {
    const what = `entities of type ${personal.join(', ')} hold residents' personal data`;
    return caller.subject
      ? new ConsentRequired(`${what}: they need the resident's consent, which no record gives this caller`)
      : new Unauthorized(
          `${what}: they need a bearer token from this Machi's identity provider and the resident's consent`,
        );
  }
  return new Unauthorized(
    `entities of type ${types.filter((t) => !policy.rules.public.has(t)).join(', ')} are not public: reading them needs a bearer token from this Machi's identity provider`,
  );
}

/**
 * The decision: returns when the caller may do this, throws otherwise.
 * @throws Unauthorized (no token), ConsentRequired (personal data), ResourceNotFound (an entity the
 *   caller may not know exists)
 */
export function authorise(request: AccessRequest, policy: AccessPolicy): void {
  const { caller, action, entity } = request;
  const resource = request.resource ?? 'entities';
  if (caller.tenants && !caller.tenants(request.tenant)) {
    throw new Forbidden(
      `the token belongs to a service of another municipality than ${request.tenant}; it is not valid here`,
    );
  }
  if (!caller.subject && policy.auth === 'on') {
    if (action === 'write') {
      throw new Unauthorized(WRITE_NEEDS_TOKEN);
    }
    // Subscriptions name endpoints and receiverInfo (often credentials of the receiver): no open data.
    if (resource === 'subscriptions') {
      throw new Unauthorized(
        "reading subscriptions needs a bearer token from this Machi's identity provider",
      );
    }
  }
  if (resource !== 'entities' || !entity) {
    return;
  }
  if (permits(readableTypes(caller, policy), entity.types)) {
    return;
  }
  if (entity.stored) {
    throw new ResourceNotFound(request.notFound ?? `no entity ${entity.id}`);
  }
  throw refusal(caller, policy, entity.types);
}

/** `authorise` as a yes or no, for deliveries that skip what they may not send rather than fail. */
export function isAuthorised(request: AccessRequest, policy: AccessPolicy): boolean {
  try {
    authorise(request, policy);
    return true;
  } catch (error) {
    if (error instanceof AppError) {
      return false;
    }
    throw error;
  }
}
