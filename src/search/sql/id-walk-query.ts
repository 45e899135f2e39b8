/**
 * The page query of the commonest search shape — one criterion on a string, date or token
 * parameter, in the default order (by id) — written as a walk of the index table in id order: the matching
 * `resource_id`s come from a subquery over the index table, joined to the live resources, ordered
 * and limited by that id. The string, date and token tables have an index that ends in
 * `resource_id` after the columns a search fixes and carries the values it tests (migration 0012),
 * so PostgreSQL reads the matches already in id order and stops after a page when they are many,
 * and still reaches rare ones through the value indexes (prefix, range, trigram).
 * The `EXISTS` form (build-search-query.ts) left PostgreSQL to sort every match by id for a page of
 * 20 whenever it underestimated how many there were, and it always does.
 * https://hl7.org/fhir/R4/search.html
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { PageCursor } from '../page-cursor.ts';
import type { SearchCriterion, SearchRequest } from '../search-request.ts';
import { indexMatchSql } from './criterion-sql.ts';
import type { SqlParams } from './sql-params.ts';

/** Parameter types whose index has an id-ordered walk (migration 0012), with the modifiers it checks in the index. */
const WALKED: Record<string, (string | undefined)[]> = { date: [undefined], token: [undefined], string: [undefined, 'contains'] };

/** The one criterion of a search that the id walk answers, or undefined when it does not apply. */
export function idWalkCriterion(request: SearchRequest, types: string[]): SearchCriterion | undefined {
  if (types.length !== 1 || request.compartment || request.sort.length > 0 || request.criteria.length !== 1) return undefined;
  const [criterion] = request.criteria;
  const { param } = criterion;
  if (criterion.chain || criterion.has || criterion.resourceType !== types[0]) return undefined;
  if (param.code === '_id' || param.code === '_lastUpdated' || !WALKED[param.type]?.includes(criterion.modifier)) return undefined;
  return criterion;
}

/**
 * The page statement of an id-walk search of `type`: `content` is the expression of the resource's
 * text on `r` (whole, or cut to the elements a GraphQL list selects), `select` are the selected columns on the
 * resource row `r` (the id as `k0`), `limit` the rows asked (a page and one), `offset` those skipped.
 */
export function idWalkPageSql(
  criterion: SearchCriterion, type: string, model: FhirModel, fhirBaseUrl: string, cursor: PageCursor | undefined,
  content: string, select: string, limit: number, offset: number | undefined, p: SqlParams,
): string {
  let aliases = 0;
  const ctx = { model, params: p, fhirBaseUrl, nextAlias: () => `s${aliases++}` };
  const s = ctx.nextAlias();
  const { table, condition } = indexMatchSql(criterion, s, ctx);
  const forward = cursor?.forward ?? true;
  // The keyset on the index row's id, so the walk starts at the cursor.
  const keyset = cursor ? ` AND ${s}.resource_id ${forward ? '>' : '<'} ${p.add(cursor.values[0], 'text')}` : '';
  return `SELECT r.resource_type AS "resourceType", r.id, r.version_id AS "versionId", r.last_updated AS "lastUpdated",
    r.deleted, ${content} AS content, ${select}
  FROM (SELECT DISTINCT ${s}.resource_id AS id FROM ${table} ${s} WHERE ${condition}${keyset}) m
  JOIN resource r ON r.resource_type = ${p.add(type)} AND r.id = m.id AND NOT r.deleted
  ORDER BY m.id ${forward ? 'ASC' : 'DESC'}
  LIMIT ${p.add(limit)}${offset ? ` OFFSET ${p.add(offset)}` : ''}`;
}
