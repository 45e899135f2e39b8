/**
 * AuditEvent search and history over the audit trail's own table (`audit_event`,
 * src/store/audit-repository.ts): the core service routes every AuditEvent search, compartment
 * search and `_history` here, so REST and GraphQL read the same rows the same way. A search
 * answers the searchset Bundle of any other type (keyset `next`/`previous` links, `_total`,
 * `_summary`, `_elements`, `_include=AuditEvent:entity`); parameters the table does not answer
 * are refused (400, `Prefer: handling=strict`) or ignored and reported (lenient) exactly as the
 * generic engine treats an unknown parameter. AuditEvents have one version each, so history is
 * the events themselves, newest first.
 * Who may read was settled before (authorize.ts, subscription/delivery-log-access.ts).
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import { badRequest, notFound, type OutcomeIssue } from '../../fhir/outcomes.ts';
import { cutPage, decodePageCursor, pageLinks, type CursorKeyType } from '../../search/page-cursor.ts';
import type { SearchRequest } from '../../search/search-request.ts';
import { shapeResource } from '../../search/shape-resource.ts';
import { withAuditDates, type AuditEventRow } from '../../store/audit-repository.ts';
import { AUDIT_SEARCH_PARAMS, buildAuditReverse, buildAuditSearch, type AuditReverseTarget } from '../../store/audit-search-sql.ts';
import type { Queryable } from '../../store/database.ts';
import { readCurrentMany, type StoredVersion } from '../../store/resource-repository.ts';
import { isAllowed } from '../authorize.ts';
import type { BundleEntryResult, BundleResult } from '../bundle-result.ts';
import { historyPageUrls, type HistoryRequest } from '../history-request.ts';
import type { RequestContext } from '../request-context.ts';
import { auditVersionOf } from './audit-projection.ts';

/** What an AuditEvent search needs: the database, the model, and the cap on included resources per page. */
export interface AuditSearchDeps {
  readonly db: Queryable;
  readonly model: FhirModel;
  readonly maxIncluded: number;
}

const KEY_TYPES: CursorKeyType[] = ['timestamptz', 'text'];
const TOKEN_PARAMS = new Set(['action', 'outcome', 'type', 'subtype']);
const REFERENCE_PARAMS = new Set(['agent', 'entity', 'patient']);

/** Why `audit_event` cannot answer a criterion, or undefined when it can. */
function unanswered(model: FhirModel, criterion: SearchRequest['criteria'][number]): string | undefined {
  const { param, modifier } = criterion;
  if (criterion.chain || criterion.has) return `AuditEvent searches take no chains or _has (${param.code})`;
  if (!AUDIT_SEARCH_PARAMS.has(param.code)) return `Search parameter ${param.code} is not supported on AuditEvent`;
  if (modifier === undefined) return undefined;
  if (modifier === 'not' && TOKEN_PARAMS.has(param.code)) return undefined;
  if (REFERENCE_PARAMS.has(param.code) && model.isResourceType(modifier)) return undefined;
  if (param.code === 'agent' && modifier === 'identifier') return undefined;
  return `Modifier :${modifier} is not supported on AuditEvent.${param.code}`;
}

/**
 * Keeps the parts of a parsed AuditEvent search the audit table answers; the others are refused
 * (400 when `strict`) or dropped with a warning in the Bundle's outcome entry, as parseSearch
 * treats an unknown parameter.
 */
export function limitToAuditTable(model: FhirModel, request: SearchRequest, strict: boolean): SearchRequest {
  const refuse = (message: string, expression: string): void => {
    if (strict) throw badRequest(message, expression);
    request.issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `${message} (ignored)`, expression: [expression] });
  };
  request.criteria = request.criteria.filter((criterion) => {
    const why = unanswered(model, criterion);
    if (why) refuse(why, criterion.param.code);
    return !why;
  });
  request.sort = request.sort.filter((key, i) => {
    const ok = i === 0 && (key.param.code === 'date' || key.param.code === '_lastUpdated');
    if (!ok) refuse(`AuditEvent sorts on date or _lastUpdated only, not ${key.param.code}`, '_sort');
    return ok;
  });
  request.include = request.include.filter((spec) => {
    const ok = !spec.iterate && (spec.param === undefined || spec.param.code === 'entity');
    if (!ok) refuse('AuditEvent includes its entities only (_include=AuditEvent:entity)', '_include');
    return ok;
  });
  if (request.revinclude.length > 0) refuse('Nothing refers to an AuditEvent: _revinclude is not supported on AuditEvent', '_revinclude');
  request.revinclude = [];
  return request;
}

interface Row extends AuditEventRow { k0: string; k1: string }

/** The resources a page's events name as entities, readable ones only, at most `max`. */
async function includedEntities(deps: AuditSearchDeps, ctx: RequestContext, request: SearchRequest, page: StoredVersion[], rows: Row[], issues: OutcomeIssue[]): Promise<StoredVersion[]> {
  const keys = new Map<string, { resourceType: string; id: string }>();
  const hidden = new Set<string>();
  const targetTypes = request.include.map((spec) => spec.targetType);
  for (const row of rows) {
    for (const reference of row.entities) {
      const [resourceType, id, rest] = reference.split('/');
      if (!id || rest !== undefined || !deps.model.isResourceType(resourceType) || resourceType === 'AuditEvent') continue;
      if (!targetTypes.some((t) => t === undefined || t === resourceType)) continue;
      if (!isAllowed(ctx, resourceType, 'r')) hidden.add(resourceType);
      else keys.set(reference, { resourceType, id });
    }
  }
  const seen = new Set(page.map((v) => `${v.resourceType}/${v.id}`));
  const wanted = [...keys.values()].filter((k) => !seen.has(`${k.resourceType}/${k.id}`));
  if (wanted.length > deps.maxIncluded) {
    issues.push({
      severity: 'warning', code: 'incomplete',
      diagnostics: `Only ${deps.maxIncluded} resources are included in a page (SEARCH_MAX_INCLUDED); the others were left out: ask for smaller pages (_count)`,
    });
  }
  const found = await readCurrentMany(deps.db, wanted.slice(0, deps.maxIncluded));
  const included = [...found.values()].filter((v) => !v.deleted);
  for (const v of included) ctx.audit.touch(`${v.resourceType}/${v.id}`);
  for (const type of hidden) {
    issues.push({ severity: 'warning', code: 'forbidden', diagnostics: `Included ${type} resources were left out: the access token's scope does not allow reading ${type}` });
  }
  return included;
}

async function countTotal(db: Queryable, request: SearchRequest, sql: string, params: unknown[]): Promise<number | undefined> {
  const mode = request.summary === 'count' && request.total === 'none' ? 'accurate' : request.total;
  if (mode === 'accurate') return (await db.query<{ n: number }>(sql, params))[0].n;
  if (mode === 'estimate') {
    const plan = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${sql.replace('SELECT count(*)::int AS n', 'SELECT 1')}`, params);
    return Math.round(plan[0]['QUERY PLAN'][0].Plan['Plan Rows']);
  }
  return undefined;
}

/** Runs an authorised AuditEvent search (limited by {@link limitToAuditTable}) and returns the searchset Bundle. */
export async function runAuditSearch(deps: AuditSearchDeps, ctx: RequestContext, request: SearchRequest): Promise<BundleResult> {
  const cursor = decodePageCursor(request.cursor, KEY_TYPES);
  const query = buildAuditSearch(request, ctx.fhirBaseUrl, cursor);
  const countOnly = request.summary === 'count' || request.count === 0;
  const [rows, total] = await Promise.all([
    countOnly ? Promise.resolve([] as Row[]) : deps.db.query<Row>(query.sql, query.params),
    countTotal(deps.db, request, query.countSql, query.countParams),
  ]);
  const page = cutPage(rows.map((row) => withAuditDates(row) as Row), request.count, cursor);
  const versions = page.rows.map(auditVersionOf);
  for (const version of versions) ctx.audit.touch(`AuditEvent/${version.id}`);
  const issues: OutcomeIssue[] = [...request.issues];
  const included = versions.length > 0 && request.include.length > 0 ? await includedEntities(deps, ctx, request, versions, page.rows, issues) : [];
  const entryOf = (version: StoredVersion, mode: 'match' | 'include'): BundleEntryResult => ({
    fullUrl: `${ctx.fhirBaseUrl}/${version.resourceType}/${version.id}`,
    resourceJson: shapeResource(version.content!, deps.model, request.summary, request.elements),
    search: { mode },
  });
  const entries = [...versions.map((v) => entryOf(v, 'match')), ...included.map((v) => entryOf(v, 'include'))];
  if (issues.length > 0) entries.push({ resourceJson: JSON.stringify({ resourceType: 'OperationOutcome', issue: issues }), search: { mode: 'outcome' } });
  const compartment = request.compartment ? `/${request.compartment.resourceType}/${request.compartment.id}` : '';
  const base = `${ctx.fhirBaseUrl}${compartment}/AuditEvent`;
  const urlFor = (cursorValue?: string) => {
    const params = new URLSearchParams(request.canonicalQuery);
    if (cursorValue) params.set('_cursor', cursorValue);
    const text = params.toString();
    return `${base}${text ? `?${text}` : ''}`;
  };
  const link = pageLinks(page, request.cursor, urlFor, (row) => [row.k0, row.k1]);
  return { type: 'searchset', total, link, entry: entries };
}

/** Reverse references to AuditEvents (authorised by the caller): per target id, the events naming it. */
export async function runAuditReverseSearch(
  deps: AuditSearchDeps, ctx: RequestContext, request: SearchRequest, target: AuditReverseTarget,
): Promise<Map<string, StoredVersion[]>> {
  const grouped = new Map<string, StoredVersion[]>(target.targetIds.map((id) => [id, []]));
  if (target.targetIds.length === 0 || request.count === 0) return grouped;
  const { sql, params } = buildAuditReverse(request, target, ctx.fhirBaseUrl);
  for (const row of await deps.db.query<AuditEventRow & { parent: string }>(sql, params)) {
    const version = auditVersionOf(withAuditDates(row));
    ctx.audit.touch(`AuditEvent/${version.id}`);
    grouped.get(row.parent)?.push(version);
  }
  return grouped;
}

function historyEntry(version: StoredVersion, fhirBaseUrl: string): BundleEntryResult {
  return {
    fullUrl: `${fhirBaseUrl}/AuditEvent/${version.id}`,
    resourceJson: version.content!,
    request: { method: 'POST', url: 'AuditEvent' },
    response: { status: '201 Created', etag: 'W/"1"', lastModified: version.lastUpdated.toISOString() },
  };
}

/**
 * AuditEvent history, newest first: of the type (every event, `_since` and `_at` on
 * `_lastUpdated`) or of one event (its only version; 404 when it does not exist).
 */
export async function runAuditHistory(deps: AuditSearchDeps, ctx: RequestContext, id: string | undefined, request: HistoryRequest): Promise<BundleResult> {
  const search: SearchRequest = {
    resourceType: 'AuditEvent', criteria: [], count: request.count, sort: [], total: 'none', include: [], revinclude: [], issues: [],
    canonicalQuery: '', ...(request.cursor ? { cursor: request.cursor } : {}),
  };
  const lastUpdated = deps.model.getSearchParam('AuditEvent', '_lastUpdated')!;
  const idParam = deps.model.getSearchParam('AuditEvent', '_id')!;
  search.sort = [{ param: lastUpdated, descending: true }];
  if (id !== undefined) search.criteria.push({ resourceType: 'AuditEvent', param: idParam, values: [id.replace(/[\\,$|]/g, (c) => `\\${c}`)] });
  if (request.since) search.criteria.push({ resourceType: 'AuditEvent', param: lastUpdated, values: [`ge${request.since.toISOString()}`] });
  if (request.at) search.criteria.push({ resourceType: 'AuditEvent', param: lastUpdated, values: [`le${request.at.high}`] });
  const cursor = decodePageCursor(request.cursor, KEY_TYPES);
  const query = buildAuditSearch(search, ctx.fhirBaseUrl, cursor);
  const rows = (await deps.db.query<Row>(query.sql, query.params)).map((row) => withAuditDates(row) as Row);
  if (id !== undefined) {
    ctx.audit.touch(`AuditEvent/${id}`);
    if (rows.length === 0 && !cursor) throw notFound(`AuditEvent/${id} is not known`);
  }
  const page = cutPage(rows, request.count, cursor);
  const base = `${ctx.fhirBaseUrl}/AuditEvent${id !== undefined ? `/${id}` : ''}/_history`;
  const urlFor = historyPageUrls(base, request);
  const link = pageLinks(page, request.cursor, urlFor, (row) => [row.k0, row.k1]);
  return {
    type: 'history', ...(id !== undefined ? { total: page.rows.length } : {}), link,
    entry: page.rows.map((row) => historyEntry(auditVersionOf(row), ctx.fhirBaseUrl)),
  };
}
