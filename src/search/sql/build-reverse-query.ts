/**
 * The batched query behind reverse references (GraphQL `Patient { ObservationList(_reference:
 * subject) }`): the resources of one type that refer, through one reference parameter, to any of
 * many targets and match the other criteria, at most `count` per target, in one statement — so the
 * SQL a nested query costs does not grow with the number of parents.
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { SearchRequest } from '../search-request.ts';
import { whereClause } from './build-search-query.ts';
import { projectedContent } from './projected-content.ts';
import { sortExpressions } from './sort-keys.ts';
import { SqlParams } from './sql-params.ts';

export interface ReverseTarget {
  referenceParam: string;
  targetType: string;
  targetIds: string[];
}

/** The SQL and parameters; rows carry `parent` (the target id they refer to). */
export function buildReverseQuery(
  request: SearchRequest, target: ReverseTarget, model: FhirModel, fhirBaseUrl: string, elements?: readonly string[],
): { sql: string; params: unknown[] } {
  const p = new SqlParams();
  const type = request.resourceType!;
  const where = whereClause(request, [type], model, fhirBaseUrl, p);
  const order = sortExpressions(request.sort, type, 'r', p, true).map((e) => `${e.sql} ${e.descending ? 'DESC' : 'ASC'}`).join(', ');
  // Rank narrow rows (parent, id, sort keys) and fetch the content of the kept ones only, so the
  // window's sort never carries whole resources.
  const count = p.add(request.count);
  const content = elements ? projectedContent('r', p.add(elements)) : 'r.content::text';
  const sql = `SELECT r.resource_type AS "resourceType", r.id, r.version_id AS "versionId", r.last_updated AS "lastUpdated", r.deleted,
      ${content} AS content, ranked.parent
    FROM (
      SELECT link.target_id AS parent, r.id, row_number() OVER (PARTITION BY link.target_id ORDER BY ${order}) AS n
      FROM resource r
      JOIN search_reference link ON link.resource_type = r.resource_type AND link.resource_id = r.id
        AND link.param = ${p.add(target.referenceParam)} AND link.target_type = ${p.add(target.targetType)}
        AND link.target_id = ANY(${p.add(target.targetIds, 'text[]')})
      WHERE ${where}
    ) ranked
    JOIN resource r ON r.resource_type = ${p.add(type)} AND r.id = ranked.id
    WHERE ranked.n <= ${count} ORDER BY ranked.parent, ranked.n`;
  return { sql, params: p.values };
}
