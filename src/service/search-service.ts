/**
 * Runs a parsed search for the core service: authorises the searched, chained, reverse-chained
 * and included types, pages with a keyset cursor, counts for `_total`, adds `_include` and
 * `_revinclude` resources, and returns a searchset Bundle whose `self`, `next` and `previous`
 * links keep working while data changes. https://hl7.org/fhir/R4/search.html
 */
import { forbidden, type OutcomeIssue } from '../fhir/outcomes.ts';
import { decodePageCursor, encodePageCursor } from '../search/page-cursor.ts';
import type { SearchRequest } from '../search/search-request.ts';
import { buildSearchQuery, cursorKeyTypes } from '../search/sql/build-search-query.ts';
import { shapeResource } from '../search/shape-resource.ts';
import { buildReverseQuery, type ReverseTarget } from '../search/sql/build-reverse-query.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import { authorize, isAllowed } from './authorize.ts';
import type { BundleEntryResult, BundleResult } from './bundle-result.ts';
import type { FhirService } from './fhir-service.ts';
import { collectIncludes } from './search-includes.ts';
import { authorizeCriteria } from './search-authorization.ts';
import type { RequestContext } from './request-context.ts';

interface Row extends StoredVersion { [key: `k${number}`]: string }

function encodeCursor(row: Row, keys: number, forward: boolean): string {
  return encodePageCursor(Array.from({ length: keys }, (_, i) => row[`k${i}`]), forward);
}

/** The types a search covers, all of them searchable by the caller. */
function searchedTypes(service: FhirService, ctx: RequestContext, request: SearchRequest): string[] {
  if (request.resourceType) {
    authorize(ctx, request.resourceType, 's');
    return [request.resourceType];
  }
  if (request.types) {
    for (const type of request.types) authorize(ctx, type, 's');
    return request.types;
  }
  const types = service.model.resourceTypes.filter((t) => isAllowed(ctx, t, 's'));
  if (types.length === 0) throw forbidden("The access token's scope does not allow searching any type");
  return types;
}

/**
 * Reverse references in one statement: for each target id, up to `request.count` resources of
 * `request.resourceType` that refer to it through `referenceParam` and match the criteria.
 */
export async function runReverseSearch(
  service: FhirService, ctx: RequestContext, request: SearchRequest, target: ReverseTarget, elements?: readonly string[],
): Promise<Map<string, StoredVersion[]>> {
  authorize(ctx, request.resourceType!, 's');
  authorizeCriteria(ctx, request.criteria);
  const grouped = new Map<string, StoredVersion[]>(target.targetIds.map((id) => [id, []]));
  if (target.targetIds.length === 0 || request.count === 0) return grouped;
  const { sql, params } = buildReverseQuery(request, target, service.model, ctx.fhirBaseUrl, elements);
  for (const row of await service.db.query<StoredVersion & { parent: string }>(sql, params)) {
    if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
    ctx.audit.touch(`${row.resourceType}/${row.id}`);
    grouped.get(row.parent)?.push(row);
  }
  return grouped;
}

/** Runs a search and returns the searchset Bundle. */
export async function runSearch(service: FhirService, ctx: RequestContext, request: SearchRequest): Promise<BundleResult> {
  ctx.audit.begin('R', request.resourceType ? 'search-type' : 'search-system');
  const types = searchedTypes(service, ctx, request);
  authorizeCriteria(ctx, request.criteria);
  for (const spec of request.include) {
    authorize(ctx, spec.sourceType, 's');
    if (spec.targetType) authorize(ctx, spec.targetType, 'r');
  }
  for (const spec of request.revinclude) authorize(ctx, spec.sourceType, 's');
  const keyTypes = cursorKeyTypes(request, types);
  const keyCount = keyTypes.length;
  const cursor = decodePageCursor(request.cursor, keyTypes);
  const query = buildSearchQuery(request, types, service.model, ctx.fhirBaseUrl, cursor);

  const summaryCount = request.summary === 'count';
  const [rows, total] = await Promise.all([
    summaryCount || request.count === 0 ? Promise.resolve([] as Row[]) : service.db.query<Row>(query.sql, query.params),
    countTotal(service, request, query.countSql, query.countParams, summaryCount),
  ]);
  const forward = cursor?.forward ?? true;
  const more = rows.length > request.count;
  let page = rows.slice(0, request.count);
  if (!forward) page = page.reverse();
  for (const row of page) {
    if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
    ctx.audit.touch(`${row.resourceType}/${row.id}`);
  }

  const entries: BundleEntryResult[] = page.map((row) => ({
    fullUrl: `${ctx.fhirBaseUrl}/${row.resourceType}/${row.id}`,
    resourceJson: shapeResource(row.content!, service.model, request.summary, request.elements),
    search: { mode: 'match' },
  }));
  const issues: OutcomeIssue[] = [...request.issues];
  if (page.length > 0 && (request.include.length || request.revinclude.length)) {
    const included = await collectIncludes(service, ctx, request, page, issues);
    for (const version of included) {
      entries.push({
        fullUrl: `${ctx.fhirBaseUrl}/${version.resourceType}/${version.id}`,
        resourceJson: shapeResource(version.content!, service.model, request.summary, request.elements),
        search: { mode: 'include' },
      });
    }
  }
  if (issues.length > 0) {
    entries.push({ resourceJson: JSON.stringify({ resourceType: 'OperationOutcome', issue: issues }), search: { mode: 'outcome' } });
  }

  const compartment = request.compartment ? `/${request.compartment.resourceType}/${request.compartment.id}` : '';
  const base = request.resourceType ? `${ctx.fhirBaseUrl}${compartment}/${request.resourceType}` : ctx.fhirBaseUrl;
  const link = (cursorValue?: string) => {
    const params = new URLSearchParams(request.canonicalQuery);
    if (cursorValue) params.set('_cursor', cursorValue);
    const query = params.toString();
    return `${base}${query ? `?${query}` : ''}`;
  };
  const links = [{ relation: 'self', url: link(request.cursor) }];
  const hasNext = forward ? more : true;
  const hasPrevious = forward ? cursor !== undefined : more;
  if (page.length > 0 && hasNext) links.push({ relation: 'next', url: link(encodeCursor(page[page.length - 1], keyCount, true)) });
  if (page.length > 0 && hasPrevious) links.push({ relation: 'previous', url: link(encodeCursor(page[0], keyCount, false)) });
  return { type: 'searchset', total, link: links, entry: entries };
}

async function countTotal(service: FhirService, request: SearchRequest, sql: string, params: unknown[], summaryCount: boolean): Promise<number | undefined> {
  const mode = summaryCount && request.total === 'none' ? 'accurate' : request.total;
  if (mode === 'accurate') return (await service.db.query<{ n: number }>(sql, params))[0].n;
  if (mode === 'estimate') {
    const rowsSql = sql.replace('SELECT count(*)::int AS n', 'SELECT 1');
    const plan = await service.db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${rowsSql}`, params);
    return Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  }
  return undefined;
}
