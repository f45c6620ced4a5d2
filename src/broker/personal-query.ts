/**
 * Queries that filter on sealed attributes of personal entities (sealed.ts), which the database
 * cannot read. Among the personal entities the caller reaches (personal.ts's condition: those of the
 * resident it acts for, or of the residents who allow it), the `q` terms on sealed attributes are
 * evaluated here, after opening just those attributes, chunk by chunk; the other terms stay in SQL.
 * The database then pages and counts the entities found so together with the other entities, which
 * it filters itself, so that limit, offset and count mean what they always do. Nothing here decides
 * who may see what: the candidates are what personal.ts's condition lets the caller reach, and
 * personal.ts hides and logs the page as for any query. A geo-query on a sealed GeoProperty is
 * refused: its geometry is not indexed.
 */
import type { Queryable } from '../platform/index.ts';
import type { StoredEntity } from './entities/model.ts';
import { queryEntities } from './entities/store.ts';
import { OperationNotSupported } from './errors.ts';
import { type AccessScope, readableWhere } from './http/scope.ts';
import { personalCondition, type QueryDecisions } from './personal.ts';
import { type EntityQuery, namedTypes, queryConditions } from './query/entity-query.ts';
import type { QExpr } from './query/q-ast.ts';
import { matchesQ } from './query/q-eval.ts';
import { compileQ } from './query/q-sql.ts';
import { SqlParams } from './query/sql-params.ts';
import { openAttributes, sensitiveAttributes } from './sealed.ts';

/** Personal entities read and tested per statement. */
const CHUNK = 500;

export interface Page {
  limit: number;
  offset: number;
  count: boolean;
}

export interface SealedQuery {
  query: EntityQuery;
  q: QExpr | undefined;
  /** The attributes the query filters on (q's and the geoproperty), expanded. */
  filters: string[];
  expand: (term: string) => string;
}

/**
 * The attributes the query filters on that a personal type it may match keeps sealed; empty when
 * the database can answer the query alone.
 */
export async function sealedFilters(
  tx: Queryable,
  scope: AccessScope,
  input: SealedQuery,
): Promise<Set<string>> {
  const named = namedTypes(input.query);
  const types = [...scope.policy.rules.personal].filter((type) => !named || named.has(type));
  return sensitiveAttributes(tx, types, input.filters);
}

/** One page of the query's entities (personal ones as stored, not yet hidden), and the total when asked. */
export async function queryWithSealedFilters(
  tx: Queryable,
  scope: AccessScope,
  input: SealedQuery & { sealed: ReadonlySet<string>; page: Page; decisions: QueryDecisions },
): Promise<{ entities: StoredEntity[]; total?: number }> {
  const { query, q, expand, sealed } = input;
  if (query.geo && sealed.has(expand(query.geo.geoproperty))) {
    throw new OperationNotSupported(
      `geo-queries on ${query.geo.geoproperty} are not supported: it holds 要配慮個人情報, stored encrypted and not indexed`,
    );
  }
  const matched = await matchingPersonal(tx, scope, input);
  const params = new SqlParams();
  const where = queryConditions(query, undefined, expand, params);
  const add = (value: unknown) => params.add(value);
  const others = [readableWhere(scope, add), q && compileQ(q, { params, expand })].filter(Boolean);
  const otherwise = others.length > 0 ? `(${others.join(' and ')})` : 'true';
  where.push(matched.length > 0 ? `(${otherwise} or e.id = any(${add(matched)}::text[]))` : otherwise);
  const { types, ids, idPattern } = query;
  return queryEntities(tx, { types, ids, idPattern, where, params }, input.page);
}

/** The ids of the personal entities the caller reaches that match the query, in id order. */
async function matchingPersonal(
  tx: Queryable,
  scope: AccessScope,
  input: SealedQuery & { sealed: ReadonlySet<string>; decisions: QueryDecisions },
): Promise<string[]> {
  const { query, expand, sealed } = input;
  const { inSql, inApp } = splitQ(input.q, (attr) => sealed.has(expand(attr)));
  const base = new SqlParams();
  const where = queryConditions(query, inSql, expand, base);
  const condition = await personalCondition(tx, scope, input.filters, (v) => base.add(v), input.decisions);
  if (!condition) return [];
  where.push(condition);
  const opened = new Set(inApp ? attributesOf(inApp).map(expand) : []);
  const matched: string[] = [];
  const { types, ids, idPattern } = query;
  let after: string | undefined;
  do {
    // The same conditions each time, resumed after the last id read.
    const params = new SqlParams();
    params.values.push(...base.values);
    const chunk = after === undefined ? where : [...where, `e.id > ${params.add(after)}`];
    const { entities } = await queryEntities(
      tx,
      { types, ids, idPattern, where: chunk, params },
      { limit: CHUNK, offset: 0, count: false },
    );
    const readable = await openAttributes(tx, scope.keys, scope.tenant, entities, opened);
    for (const entity of readable) {
      if (!inApp || matchesQ(inApp, entity, { expand })) matched.push(entity.id);
    }
    after = entities.length === CHUNK ? entities.at(-1)?.id : undefined;
  } while (after !== undefined);
  return matched;
}

/** The attributes a q names (first names of its paths, unexpanded). */
function attributesOf(expr: QExpr): string[] {
  if (expr.kind === 'and' || expr.kind === 'or') return expr.items.flatMap(attributesOf);
  return expr.path.attrs.slice(0, 1);
}

/**
 * A q split into what SQL can test and what only the application can (the terms on sealed
 * attributes): the items of a top-level AND go where they can; anything else that touches a sealed
 * attribute stays whole in the application.
 */
export function splitQ(
  q: QExpr | undefined,
  isSealed: (attr: string) => boolean,
): { inSql?: QExpr; inApp?: QExpr } {
  if (!q) return {};
  const touches = (expr: QExpr) => attributesOf(expr).some(isSealed);
  if (!touches(q)) return { inSql: q };
  if (q.kind !== 'and') return { inApp: q };
  const join = (items: QExpr[]): QExpr | undefined => (items.length <= 1 ? items[0] : { kind: 'and', items });
  return {
    inSql: join(q.items.filter((item) => !touches(item))),
    inApp: join(q.items.filter(touches)),
  };
}
