/**
 * Staff reading a resident's personal data (住民情報の照会), for a stated purpose: the staff API
 * `GET /api/v1/staff/tenants/{code}/residents/{accountId}/personal-data` with `Machi-Purpose`.
 * Whether a staff member may see a category is consent's policy decision point alone (a role that
 * covers the category, and a purpose in the tenant's catalogue, stated with the request); this
 * module only asks it, shows what it allows, and appends every decision, allowed or refused, to the
 * resident's access log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ResidentEntity, residentEntities } from '../../broker/index.ts';
import {
  type AccessEntry,
  appendAccessMany,
  categoriesOf,
  type Decision,
  decide,
} from '../../consent/index.ts';
import type { IdentityHandle } from '../../identity/index.ts';
import { type DataKeys, type Db, Forbidden, type Queryable } from '../../platform/index.ts';

const PATH = '/api/v1/staff/tenants/:tenant/residents/:accountId/personal-data';
/** Entity members that are not attributes, in the rendered (compacted) entity. */
const MEMBERS = new Set(['id', 'type', 'scope', '@context', 'createdAt', 'modifiedAt', 'deletedAt']);

export interface ResidentsOptions {
  db: Db;
  identity: Pick<IdentityHandle, 'staff'>;
  /** The tenants' data keys: sensitive data the policy point allows is shown opened. */
  keys: DataKeys;
}

interface Staff {
  accountId: string;
  roles: readonly string[];
}

/** The categories of each entity: its own (the type's `*`) and its attributes'. */
async function categorised(tx: Queryable, entity: ResidentEntity) {
  const type = entity.types[0] ?? '';
  const attrs = Object.keys(entity.entity).filter((k) => !MEMBERS.has(k));
  const { byAttribute } = await categoriesOf(tx, type, ['*', ...attrs]);
  return { entity, own: byAttribute['*'], byAttribute };
}

/** The entity with only the attributes whose category is allowed; undefined when it may not be seen. */
function shown(
  item: Awaited<ReturnType<typeof categorised>>,
  allowed: (category: string | undefined) => boolean,
): Record<string, unknown> | undefined {
  if (!allowed(item.own)) return undefined;
  return Object.fromEntries(
    Object.entries(item.entity.entity).filter(
      ([key]) => MEMBERS.has(key) || allowed(item.byAttribute[key] ?? item.own),
    ),
  );
}

export async function residentsRoutes(app: FastifyInstance, options: ResidentsOptions): Promise<void> {
  const { db, identity, keys } = options;
  app.get<{ Params: { tenant: string; accountId: string } }>(
    PATH,
    {
      schema: {
        params: {
          type: 'object',
          required: ['tenant', 'accountId'],
          properties: {
            tenant: { type: 'string', pattern: '^\\d{6}$' },
            accountId: { type: 'string', format: 'uuid' },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { tenant: string; accountId: string } }>, reply) => {
      const { tenant, accountId: resident } = request.params;
      const staff: Staff = await identity.staff(request, tenant);
      const header = request.headers['machi-purpose'];
      const purpose = typeof header === 'string' ? header.trim() : '';
      const entities = await residentEntities(db, keys, tenant, resident);
      const answer = await db.withTenant(tenant, async (tx) => {
        const items = await Promise.all(entities.map((e) => categorised(tx, e)));
        const categories = [
          ...new Set(
            items.flatMap((i) => [i.own, ...Object.values(i.byAttribute)]).filter((c) => c !== undefined),
          ),
        ].sort();
        const decisions = new Map<string, Decision>();
        for (const category of categories) {
          decisions.set(
            category,
            await decide(tx, {
              tenant,
              resident,
              actor: {
                kind: 'staff',
                accountId: staff.accountId,
                roles: staff.roles,
                statedPurpose: purpose,
              },
              purpose,
              category,
              action: 'read',
            }),
          );
        }
        const allowed = (category: string | undefined) =>
          category !== undefined && decisions.get(category)?.allow === true;
        const visible = items.flatMap((i) => {
          const entity = shown(i, allowed);
          return entity ? [{ item: i, entity }] : [];
        });
        // What was shown is granted; everything else (also an allowed category of an entity whose own
        // category is refused) was not.
        const granted = [
          ...new Set(
            visible.flatMap(({ item, entity }) =>
              Object.keys(entity).flatMap((k) => {
                const category = MEMBERS.has(k) ? item.own : (item.byAttribute[k] ?? item.own);
                return category ? [category] : [];
              }),
            ),
          ),
        ].sort();
        const refused = categories.filter((c) => !granted.includes(c));
        const refusal = categories.find((c) => !allowed(c));
        const actor = { kind: 'staff' as const, id: staff.accountId, name: '' };
        const log: AccessEntry[] = [];
        if (granted.length > 0) {
          log.push({
            resident,
            actor,
            purpose,
            categories: granted,
            entities: visible.map(({ entity }) => String(entity.id)),
            action: 'read',
            decision: 'allow',
            reason: 'staff-role',
          });
        }
        if (refused.length > 0) {
          log.push({
            resident,
            actor,
            purpose,
            categories: refused,
            entities: items.filter((i) => !shown(i, allowed)).map((i) => i.entity.id),
            action: 'read',
            decision: 'deny',
            reason: (refusal && decisions.get(refusal)?.reason) || 'entity-withheld',
          });
        }
        await appendAccessMany(tx, tenant, log);
        return {
          entities: visible.map(({ entity }) => entity),
          withheld: refused.map((category) => ({ category, reason: decisions.get(category)?.reason })),
        };
      });
      reply.header('cache-control', 'no-store');
      if (answer.entities.length === 0 && answer.withheld.length > 0) {
        const reasons = [...new Set(answer.withheld.map((w) => w.reason))].join(', ');
        throw new Forbidden(
          purpose
            ? `this resident's data is not open to you for ${purpose} (${reasons})`
            : `state the purpose of this look-up in the Machi-Purpose header (${reasons})`,
        );
      }
      return answer;
    },
  );
}
