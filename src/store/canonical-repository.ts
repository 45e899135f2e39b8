/**
 * Finds stored conformance resources (CodeSystem, ValueSet…) by canonical URL and version through
 * the search index (`url` in `search_uri`, `version` in `search_token`, both written with the
 * resource in one transaction). https://hl7.org/fhir/R4/references.html#canonical
 */
import type { Queryable } from './database.ts';

/** One stored resource found by its canonical URL. */
export interface CanonicalRow {
  id: string;
  content: string;
}

/**
 * The live resources of `resourceType` whose `url` is `url` (and whose `version` is `version`,
 * when given), most recently updated first, at most `limit`.
 */
export async function findByCanonical(q: Queryable, resourceType: string, url: string, version: string | undefined, limit: number): Promise<CanonicalRow[]> {
  const params: unknown[] = [resourceType, url];
  let sql = `SELECT r.id, r.content::text AS content FROM resource r
    WHERE r.resource_type = $1 AND NOT r.deleted
      AND EXISTS (SELECT 1 FROM search_uri u WHERE u.resource_type = $1 AND u.resource_id = r.id AND u.param = 'url' AND u.value = $2)`;
  if (version !== undefined) {
    sql += ` AND EXISTS (SELECT 1 FROM search_token t WHERE t.resource_type = $1 AND t.resource_id = r.id AND t.param = 'version' AND t.code = $${params.push(version)})`;
  }
  sql += ` ORDER BY r.last_updated DESC, r.id LIMIT $${params.push(limit)}`;
  return q.query<CanonicalRow>(sql, params);
}
