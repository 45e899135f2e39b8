/**
 * Builds the SQL of a search page: the live resources of the searched type(s) matching every
 * criterion, in sort order, after (or before) the cursor, one row more than the page so the
 * caller knows whether a next page exists; and the count query for `_total`.
 * https://hl7.org/fhir/R4/search.html
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { PageCursor } from '../page-cursor.ts';
import type { SearchRequest } from '../search-request.ts';
import { criterionSql } from './criterion-sql.ts';
import { idWalkCriterion, idWalkPageSql } from './id-walk-query.ts';
import { projectedContent } from './projected-content.ts';
import { keysetCondition, sortExpressions, type SortExpression } from './sort-keys.ts';
import { SqlParams } from './sql-params.ts';

export interface BuiltQuery {
  sql: string;
  params: unknown[];
  /** The count statement for `_total` (built on first read). */
  readonly countSql: string;
  readonly countParams: unknown[];
  sortCount: number;
}

/** The WHERE conditions of a search over `types` on the resource alias `r`. */
export function whereClause(request: SearchRequest, types: string[], model: FhirModel, fhirBaseUrl: string, p: SqlParams): string {
  let aliases = 0;
  const ctx = { model, params: p, fhirBaseUrl, nextAlias: () => `s${aliases++}` };
  const conditions = [
    types.length === 1 ? `r.resource_type = ${p.add(types[0])}` : `r.resource_type = ANY(${p.add(types, 'text[]')})`,
    'NOT r.deleted',
    ...request.criteria.map((c) => criterionSql(c, 'r', ctx)),
  ];
  if (request.compartment) {
    const { resourceType, id, params } = request.compartment;
    conditions.push(`EXISTS (SELECT 1 FROM search_reference c WHERE c.resource_type = r.resource_type AND c.resource_id = r.id
      AND c.param = ANY(${p.add(params, 'text[]')}) AND c.target_type = ${p.add(resourceType)} AND c.target_id = ${p.add(id)})`);
  }
  return conditions.join('\n  AND ');
}

/** The page query and the count query of a search over `types` (already authorised). */
export function buildSearchQuery(request: SearchRequest, types: string[], model: FhirModel, fhirBaseUrl: string, cursor: PageCursor | undefined): BuiltQuery {
  const p = new SqlParams();
  const sortType = types.length === 1 ? types[0] : 'Resource';
  const expressions: SortExpression[] = sortExpressions(request.sort, sortType, 'r', p, types.length === 1);
  const select = expressions.map((e, i) => `(${e.sql})::text AS k${i}`).join(', ');
  const offset = !cursor && request.offset ? request.offset : undefined;
  const content = request.projection ? projectedContent('r', p.add(request.projection)) : 'r.content::text';
  const walked = idWalkCriterion(request, types);
  let sql: string;
  if (walked) {
    sql = idWalkPageSql(walked, types[0], model, fhirBaseUrl, cursor, content, select, request.count + 1, offset, p);
  } else {
    const where = whereClause(request, types, model, fhirBaseUrl, p);
    const forward = cursor?.forward ?? true;
    const keyset = cursor ? `\n  AND ${keysetCondition(expressions, cursor.values, forward, p)}` : '';
    const order = expressions.map((e) => `${e.sql} ${e.descending === forward ? 'DESC' : 'ASC'}`).join(', ');
    sql = `SELECT r.resource_type AS "resourceType", r.id, r.version_id AS "versionId", r.last_updated AS "lastUpdated",
    r.deleted, ${content} AS content, ${select}
  FROM resource r
  WHERE ${where}${keyset}
  ORDER BY ${order}
  LIMIT ${p.add(request.count + 1)}${offset ? ` OFFSET ${p.add(offset)}` : ''}`;
  }
  // Most searches count nothing (`_total` defaults to none): the count statement is built when read.
  let count: { sql: string; params: unknown[] } | undefined;
  const countQuery = () => {
    if (!count) {
      const c = new SqlParams();
      count = { sql: `SELECT count(*)::int AS n FROM resource r WHERE ${whereClause(request, types, model, fhirBaseUrl, c)}`, params: c.values };
    }
    return count;
  };
  return {
    sql,
    params: p.values,
    get countSql() { return countQuery().sql; },
    get countParams() { return countQuery().params; },
    sortCount: expressions.length,
  };
}

/** The SQL types of the sort keys (with the tiebreak) a cursor of this search carries, in order. */
export function cursorKeyTypes(request: SearchRequest, types: string[]): SortExpression['type'][] {
  const sortType = types.length === 1 ? types[0] : 'Resource';
  return sortExpressions(request.sort, sortType, 'r', new SqlParams(), types.length === 1).map((e) => e.type);
}
