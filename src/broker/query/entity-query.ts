/**
 * What an entity query asks for (GET /entities parameters, or a POST Query body, §5.7.2, §5.2.23),
 * and its conditions other than access as SQL over the entity row `e`.
 */
import { selectorsClause } from '../entities/store.ts';
import { compileGeoQuery, type GeoQuery } from './geo-query.ts';
import type { QExpr } from './q-ast.ts';
import { compileQ } from './q-sql.ts';
import { compileScopeQ, parseScopeQ } from './scope-q.ts';
import type { SqlParams } from './sql-params.ts';
import { compileTypeExpr, type TypeExpr } from './type-expr.ts';

export interface EntityQuery {
  types?: string[];
  /** A type selection (§4.17), expanded; a plain list compiles to the same indexable test as `types`. */
  typeExpr?: TypeExpr | undefined;
  ids?: string[];
  idPattern?: string | undefined;
  /** Entity selectors of a Query body, any of which an entity must match. */
  selectors?: { types?: string[]; typeExpr?: TypeExpr; id?: string; idPattern?: string }[];
  q?: string | undefined;
  /** A scope query (§4.19). */
  scopeQ?: string | undefined;
  geo?: GeoQuery | undefined;
}

/**
 * The query's type selection, scope query, `q` (given parsed, or left out), geo-query and selectors
 * as SQL conditions, their values added to `params`; `types`, `ids` and `idPattern` are the store's.
 */
export function queryConditions(
  query: EntityQuery,
  q: QExpr | undefined,
  expand: (term: string) => string,
  params: SqlParams,
): string[] {
  const where: string[] = [];
  if (query.typeExpr) where.push(compileTypeExpr(query.typeExpr, params));
  if (query.scopeQ !== undefined) where.push(compileScopeQ(parseScopeQ(query.scopeQ), params));
  if (q) where.push(compileQ(q, { params, expand }));
  if (query.geo) where.push(compileGeoQuery(query.geo, { params, expand }));
  if (query.selectors?.length) where.push(selectorsClause(query.selectors, params));
  return where;
}

/** The expanded types a query names, or undefined when it may match entities of any type. */
export function namedTypes(query: EntityQuery): Set<string> | undefined {
  const names = (expr: TypeExpr): string[] =>
    expr.kind === 'type' ? [expr.name] : expr.items.flatMap((item) => names(item));
  const lists: string[][] = [];
  if (query.types?.length) lists.push(query.types);
  if (query.typeExpr) lists.push(names(query.typeExpr));
  const selectors = query.selectors ?? [];
  if (selectors.length > 0 && selectors.every((s) => s.typeExpr || s.types?.length)) {
    lists.push(selectors.flatMap((s) => (s.typeExpr ? names(s.typeExpr) : (s.types ?? []))));
  }
  const [first, ...rest] = lists;
  return first && new Set(first.filter((type) => rest.every((list) => list.includes(type))));
}
