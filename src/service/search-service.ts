/**
 * Runs a parsed search for the core service: authorises the searched, chained, reverse-chained
 * and included types, pages with a keyset cursor (src/search/page-cursor.ts), counts for
 * `_total`, adds `_include` and `_revinclude` resources, and returns a searchset Bundle whose
 * `self`, `next` and `previous` links keep working while data changes.
 * https://hl7.org/fhir/R4/search.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { forbidden, type OutcomeIssue } from '../fhir/outcomes.ts';
import { cutPage, decodePageCursor, pageLinks } from '../search/page-cursor.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { buildSearchQuery, cursorKeyTypes, type BuiltQuery } from '../search/sql/build-search-query.ts';
import { shapeResource } from '../search/shape-resource.ts';
import { buildReverseQuery, type ReverseTarget } from '../search/sql/build-reverse-query.ts';
import type { Queryable } from '../store/database.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import { authorize, isAllowed } from './authorize.ts';
import type { BundleEntryResult, BundleResult } from './bundle-result.ts';
import { collectIncludes } from './search-includes.ts';
import { binaryVersionsWithBytes, withoutBytesMarked } from './binary/binary-json.ts';
import { authorizeCriteria } from './search-authorization.ts';
import { runAuditReverseSearch, runAuditSearch } from './audit/audit-search.ts';
import type { RequestContext } from './request-context.ts';

/** What a search needs: the database, the model, and the cap on included resources per page. */
export interface SearchDeps {
  readonly db: Queryable;
  readonly model: FhirModel;
  readonly maxIncluded: number;
}

interface Row extends StoredVersion { [key: `k${number}`]: string }

/** The types a search covers, all of them searchable by the caller. */
function searchedTypes(deps: SearchDeps, ctx: RequestContext, request: SearchRequest, grant: SearchGrant): string[] {
  if (request.resourceType) {
    if (!(grant.deliveryLog && request.resourceType === 'AuditEvent')) authorize(ctx, request.resourceType, 's');
    return [request.resourceType];
  }
  if (request.types) {
    for (const type of request.types) authorize(ctx, type, 's');
    return request.types;
  }
  const types = deps.model.resourceTypes.filter((t) => isAllowed(ctx, t, 's'));
  if (types.length === 0) throw forbidden("The access token's scope does not allow searching any type");
  return types;
}

/**
 * Reverse references in one statement: for each target id, up to `request.count` resources of
 * `request.resourceType` that refer to it through `referenceParam` and match the criteria.
 */
export async function runReverseSearch(
  deps: SearchDeps, ctx: RequestContext, request: SearchRequest, target: ReverseTarget, elements?: readonly string[],
): Promise<Map<string, StoredVersion[]>> {
  authorize(ctx, request.resourceType!, 's');
  authorizeCriteria(ctx, request.criteria);
  if (request.resourceType === 'AuditEvent') return runAuditReverseSearch(deps, ctx, request, target);
  const grouped = new Map<string, StoredVersion[]>(target.targetIds.map((id) => [id, []]));
  if (target.targetIds.length === 0 || request.count === 0) return grouped;
  const { sql, params } = buildReverseQuery(request, target, deps.model, ctx.fhirBaseUrl, elements);
  for (const row of await deps.db.query<StoredVersion & { parent: string }>(sql, params)) {
    if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
    ctx.audit.touch(`${row.resourceType}/${row.id}`);
    grouped.get(row.parent)?.push(row);
  }
  return grouped;
}

/** How a search was authorised beyond the caller's scopes. */
export interface SearchGrant {
  /** An AuditEvent search already authorised as the delivery log of the caller's Subscriptions (subscription/delivery-log-access.ts). */
  deliveryLog?: boolean;
}

/** Authorises every type the search reads: the searched ones, chains, `_has` and includes. */
function authorizeSearch(deps: SearchDeps, ctx: RequestContext, request: SearchRequest, grant: SearchGrant): string[] {
  const types = searchedTypes(deps, ctx, request, grant);
  authorizeCriteria(ctx, request.criteria);
  for (const spec of request.include) {
    authorize(ctx, spec.sourceType, 's');
    if (spec.targetType) authorize(ctx, spec.targetType, 'r');
  }
  for (const spec of request.revinclude) authorize(ctx, spec.sourceType, 's');
  return types;
}

/** Runs a search and returns the searchset Bundle. */
export async function runSearch(deps: SearchDeps, ctx: RequestContext, request: SearchRequest, grant: SearchGrant = {}): Promise<BundleResult> {
  const types = authorizeSearch(deps, ctx, request, grant);
  // AuditEvents live in the audit trail's own table (audit/audit-search.ts).
  if (request.resourceType === 'AuditEvent') return runAuditSearch(deps, ctx, request);
  const keyTypes = cursorKeyTypes(request, types);
  const cursor = decodePageCursor(request.cursor, keyTypes);
  const query = buildSearchQuery(request, types, deps.model, ctx.fhirBaseUrl, cursor);

  const summaryCount = request.summary === 'count';
  const [rows, total] = await Promise.all([
    summaryCount || request.count === 0 ? Promise.resolve([] as Row[]) : deps.db.query<Row>(query.sql, query.params),
    countTotal(deps.db, request, query, summaryCount),
  ]);
  const page = cutPage(rows, request.count, cursor);
  for (const row of page.rows) {
    if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
    ctx.audit.touch(`${row.resourceType}/${row.id}`);
  }

  const issues: OutcomeIssue[] = [...request.issues];
  const included = page.rows.length > 0 && (request.include.length || request.revinclude.length)
    ? await collectIncludes(deps.db, deps.maxIncluded, ctx, request, page.rows, issues)
    : [];
  // Binaries are carried without their bytes (binary/binary-json.ts).
  const withBytes = await binaryVersionsWithBytes(deps.db, [...page.rows, ...included]);
  const entryOf = (version: StoredVersion, mode: 'match' | 'include'): BundleEntryResult => ({
    fullUrl: `${ctx.fhirBaseUrl}/${version.resourceType}/${version.id}`,
    resourceJson: withoutBytesMarked(withBytes, version, shapeResource(version.content!, deps.model, request.summary, request.elements)),
    search: { mode },
  });
  const entries = [...page.rows.map((row) => entryOf(row, 'match')), ...included.map((version) => entryOf(version, 'include'))];
  if (issues.length > 0) {
    entries.push({ resourceJson: JSON.stringify({ resourceType: 'OperationOutcome', issue: issues }), search: { mode: 'outcome' } });
  }

  const compartment = request.compartment ? `/${request.compartment.resourceType}/${request.compartment.id}` : '';
  const base = request.resourceType ? `${ctx.fhirBaseUrl}${compartment}/${request.resourceType}` : ctx.fhirBaseUrl;
  const urlFor = (cursorValue?: string) => {
    const params = new URLSearchParams(request.canonicalQuery);
    if (cursorValue) params.set('_cursor', cursorValue);
    const query = params.toString();
    return `${base}${query ? `?${query}` : ''}`;
  };
  const link = pageLinks(page, request.cursor, urlFor, (row) => keyTypes.map((_, i) => row[`k${i}`]));
  return { type: 'searchset', total, link, entry: entries };
}

async function countTotal(db: Queryable, request: SearchRequest, query: BuiltQuery, summaryCount: boolean): Promise<number | undefined> {
  const mode = summaryCount && request.total === 'none' ? 'accurate' : request.total;
  if (mode !== 'accurate' && mode !== 'estimate') return undefined;
  const { countSql: sql, countParams: params } = query;
  if (mode === 'accurate') return (await db.query<{ n: number }>(sql, params))[0].n;
  if (mode === 'estimate') {
    const rowsSql = sql.replace('SELECT count(*)::int AS n', 'SELECT 1');
    const plan = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${rowsSql}`, params);
    return Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  }
  return undefined;
}
