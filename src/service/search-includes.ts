/**
 * `_include` and `_revinclude` (https://hl7.org/fhir/R4/search.html#include): the resources the
 * page's matches refer to, or that refer to them, through one reference parameter (or every one,
 * with `*`), iterated up to three levels with `:iterate`. Included resources of a type the
 * caller may not read are left out, never returned, and reported in the Bundle's outcome entry;
 * so are the ones beyond `SEARCH_MAX_INCLUDED` per page (the spec lets a server limit includes,
 * https://hl7.org/fhir/R4/search.html#revinclude, and says so in an OperationOutcome).
 */
import type { OutcomeIssue } from '../fhir/outcomes.ts';
import type { IncludeSpec, SearchRequest } from '../search/search-request.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import { isAllowed } from './authorize.ts';
import type { Queryable } from '../store/database.ts';
import type { RequestContext } from './request-context.ts';

const MAX_ITERATIONS = 3;

interface Key { resourceType: string; id: string }

async function referencedBy(db: Queryable, spec: IncludeSpec, sources: Key[], limit: number): Promise<Key[]> {
  const ids = sources.filter((s) => s.resourceType === spec.sourceType).map((s) => s.id);
  if (ids.length === 0) return [];
  const params: unknown[] = [spec.sourceType, ids];
  let sql = `SELECT DISTINCT target_type AS "resourceType", target_id AS id FROM search_reference
    WHERE resource_type = $1 AND resource_id = ANY($2::text[]) AND target_id IS NOT NULL`;
  if (spec.param) sql += ` AND param = $${params.push(spec.param.code)}`;
  if (spec.targetType) sql += ` AND target_type = $${params.push(spec.targetType)}`;
  return db.query<Key>(`${sql} LIMIT ${limit}`, params);
}

async function referencing(db: Queryable, spec: IncludeSpec, targets: Key[], limit: number): Promise<Key[]> {
  if (targets.length === 0) return [];
  const params: unknown[] = [spec.sourceType, targets.map((t) => t.resourceType), targets.map((t) => t.id)];
  let sql = `SELECT DISTINCT s.resource_type AS "resourceType", s.resource_id AS id FROM search_reference s
    JOIN unnest($2::text[], $3::text[]) AS t(rt, id) ON s.target_type = t.rt AND s.target_id = t.id
    WHERE s.resource_type = $1`;
  if (spec.param) sql += ` AND s.param = $${params.push(spec.param.code)}`;
  return db.query<Key>(`${sql} LIMIT ${limit}`, params);
}

async function readLive(db: Queryable, keys: Key[]): Promise<StoredVersion[]> {
  if (keys.length === 0) return [];
  const rows = await db.query<StoredVersion>(
    `SELECT resource_type AS "resourceType", id, version_id AS "versionId", last_updated AS "lastUpdated", deleted, content::text AS content
       FROM resource WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND NOT deleted`,
    [keys.map((k) => k.resourceType), keys.map((k) => k.id)],
  );
  for (const row of rows) if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
  return rows;
}

/**
 * The included resources of a page (not the matches themselves), readable ones only, at most
 * `max` of them (`SEARCH_MAX_INCLUDED`).
 */
export async function collectIncludes(
  db: Queryable, max: number, ctx: RequestContext, request: SearchRequest, page: StoredVersion[], issues: OutcomeIssue[],
): Promise<StoredVersion[]> {
  const seen = new Set(page.map((r) => `${r.resourceType}/${r.id}`));
  const included: StoredVersion[] = [];
  const hidden = new Set<string>();
  // One row more than may be kept tells a cut list from a complete one.
  const limit = max + 1;
  let truncated = false;
  let frontier: Key[] = page;
  for (let round = 0; round < MAX_ITERATIONS && frontier.length > 0; round++) {
    const found: Key[] = [];
    const add = (keys: Key[]) => {
      if (keys.length >= limit) truncated = true;
      found.push(...keys.slice(0, max));
    };
    for (const spec of request.include) if (round === 0 || spec.iterate) add(await referencedBy(db, spec, frontier, limit));
    for (const spec of request.revinclude) if (round === 0 || spec.iterate) add(await referencing(db, spec, frontier, limit));
    const fresh = found.filter((k) => {
      const key = `${k.resourceType}/${k.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      if (!isAllowed(ctx, k.resourceType, 'r')) {
        hidden.add(k.resourceType);
        return false;
      }
      return true;
    });
    if (fresh.length > max - included.length) truncated = true;
    const versions = await readLive(db, fresh.slice(0, max - included.length));
    included.push(...versions);
    for (const v of versions) ctx.audit.touch(`${v.resourceType}/${v.id}`);
    frontier = versions;
  }
  if (truncated) {
    issues.push({
      severity: 'warning', code: 'incomplete',
      diagnostics: `Only ${max} resources are included in a page (SEARCH_MAX_INCLUDED); the others were left out: ask for smaller pages (_count)`,
    });
  }
  for (const type of hidden) {
    issues.push({ severity: 'warning', code: 'forbidden', diagnostics: `Included ${type} resources were left out: the access token's scope does not allow reading ${type}` });
  }
  return included;
}
