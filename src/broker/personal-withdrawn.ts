/**
 * A service still presenting a token that ended with the resident's consent is refused (401) like
 * any token no longer valid; the attempt is recorded in that resident's access log when it reaches
 * for their personal data (an entity of theirs by id, or a query of a personal type), so the
 * resident sees on My Page that the service tried and was refused. The refusal never waits on the
 * log: a failure to record is logged (without personal data) and the 401 goes out regardless.
 */
import type { FastifyRequest } from 'fastify';
import { appendAccess, categoriesOf } from '../consent/index.ts';
import type { Db, Queryable } from '../platform/index.ts';
import type { BrokerConfig } from './config.ts';
import { resolveTenant } from './tenant.ts';
import { coreContext, typeRules } from './type-access.ts';

/** Whose token it was and which service held it. */
export interface Withdrawn {
  accountId: string;
  clientId: string;
  name: string;
}

/**
 * What `authenticate` throws for a token that ended with the resident's consent: the refusal to
 * send, and whose it was.
 */
export class WithdrawnAccess extends Error {
  readonly refusal: Error;
  readonly withdrawn: Withdrawn;

  constructor(refusal: Error, withdrawn: Withdrawn) {
    super(refusal.message);
    this.refusal = refusal;
    this.withdrawn = withdrawn;
  }
}

const header = (request: FastifyRequest, name: string) => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

/** The resident's entity the request names, with its categories; undefined when it names none of theirs. */
async function namedEntity(tx: Queryable, request: FastifyRequest, owner: string) {
  const id = (request.params as { entityId?: string } | undefined)?.entityId;
  if (!id) return undefined;
  const { rows } = await tx.query<{ types: string[] }>(
    `select e.types from broker.entities e join broker.entity_owners o on o.entity_id = e.id
      where e.id = $1 and o.owner = $2`,
    [id, owner],
  );
  const types = rows[0]?.types;
  return types ? { id, types } : undefined;
}

/** The personal types a query names (`type=`, a short name of the core @context or an IRI). */
async function queriedPersonalTypes(
  request: FastifyRequest,
  personal: ReadonlySet<string>,
): Promise<string[]> {
  const type = (request.query as { type?: string } | undefined)?.type;
  if (!type || !request.url.split('?')[0]?.endsWith('/entities')) return [];
  const ctx = await coreContext();
  const named = type
    .split(/[,|;()]/)
    .map((t) => t.trim())
    .filter(Boolean);
  return [...new Set(named.map((t) => ctx.expand(t)))].filter((iri) => personal.has(iri));
}

export async function logWithdrawnAttempt(
  db: Db,
  config: Pick<BrokerConfig, 'defaultTenant'>,
  request: FastifyRequest,
  withdrawn: Withdrawn,
): Promise<void> {
  const tenant = await resolveTenant(db, header(request, 'ngsild-tenant'), config.defaultTenant);
  const rules = await typeRules(db, tenant);
  await db.withTenant(tenant, async (tx) => {
    const entity = await namedEntity(tx, request, withdrawn.accountId);
    const types = entity ? entity.types : await queriedPersonalTypes(request, rules.personal);
    if (types.length === 0) return;
    const categories = new Set<string>();
    for (const type of types) {
      for (const category of (await categoriesOf(tx, type, [])).categories) categories.add(category);
    }
    await appendAccess(tx, tenant, {
      resident: withdrawn.accountId,
      actor: { kind: 'client', id: withdrawn.clientId, name: withdrawn.name },
      purpose: header(request, 'machi-purpose') ?? '',
      categories: [...categories],
      entities: entity ? [entity.id] : [],
      action:
        request.method === 'GET' || request.method === 'HEAD'
          ? 'read'
          : request.method === 'DELETE'
            ? 'delete'
            : 'write',
      decision: 'deny',
      reason: 'consent-withdrawn',
    });
  });
}
