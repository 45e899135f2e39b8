/**
 * History at instance, type and system level, newest first, paged with the same keyset cursor as
 * search (src/search/page-cursor.ts, keyed on the history row's sequence number), so `next` and
 * `previous` links keep working while data changes. https://hl7.org/fhir/R4/http.html#history
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { notFound } from '../fhir/outcomes.ts';
import { cutPage, decodePageCursor, pageLinks } from '../search/page-cursor.ts';
import type { Queryable } from '../store/database.ts';
import { countVersions, readCurrent, readHistory, type HistoryVersion } from '../store/resource-repository.ts';
import { authorize, isAllowed } from './authorize.ts';
import type { BundleEntryResult, BundleResult } from './bundle-result.ts';
import { historyPageUrls, type HistoryRequest } from './history-request.ts';
import { binaryVersionsWithBytes, withoutBytesMarked } from './binary/binary-json.ts';
import type { RequestContext } from './request-context.ts';
import { runAuditHistory } from './audit/audit-search.ts';

/** What history needs: the database and the model. */
export interface HistoryDeps {
  readonly db: Queryable;
  readonly model: FhirModel;
}

/** Whose history: one resource, one type, or (neither) the whole system. */
export interface HistoryTarget {
  resourceType?: string;
  id?: string;
  /** System level: only these types (undefined: every type); see {@link readableHistoryTypes}. */
  resourceTypes?: string[];
}

/**
 * The types whose history a system-level request may list: `undefined` for every type, else
 * the types the scope names (AuditEvent only for admins). 403 when there are none. System-level
 * history lists resource versions; the audit trail is read at `AuditEvent/_history`.
 */
export function readableHistoryTypes(model: FhirModel, ctx: RequestContext): string[] | undefined {
  const scopes = ctx.auth.scopes;
  const types = scopes.permitsAll('s')
    ? (ctx.auth.admin ? undefined : model.resourceTypes.filter((t) => t !== 'AuditEvent'))
    : scopes.typesWith('s').filter((t) => isAllowed(ctx, t, 's'));
  if (types && types.length === 0) authorize(ctx, '*', 's');
  return types;
}

function historyEntry(version: HistoryVersion, fhirBaseUrl: string, withBytes: ReadonlySet<string>): BundleEntryResult {
  const path = `${version.resourceType}/${version.id}`;
  const status = version.deleted ? '204 No Content' : version.method === 'POST' || version.versionId === 1 ? '201 Created' : '200 OK';
  return {
    fullUrl: `${fhirBaseUrl}/${path}`,
    resourceJson: version.content === null ? undefined : withoutBytesMarked(withBytes, version, version.content),
    request: { method: version.method, url: version.method === 'POST' ? version.resourceType : path },
    response: { status, etag: `W/"${version.versionId}"`, lastModified: version.lastUpdated.toISOString() },
  };
}

/**
 * Runs an authorised history request and returns the history Bundle (with `total` at instance
 * level); 404 for an instance that never existed.
 */
export async function runHistory(deps: HistoryDeps, ctx: RequestContext, target: HistoryTarget, request: HistoryRequest): Promise<BundleResult> {
  const { resourceType, id, resourceTypes } = target;
  // AuditEvents live in the audit trail's own table, one version each (audit/audit-search.ts).
  if (resourceType === 'AuditEvent') return runAuditHistory({ ...deps, maxIncluded: 0 }, ctx, id, request);
  const cursor = decodePageCursor(request.cursor, ['bigint']);
  const query = {
    resourceType, id, since: request.since, at: request.at, limit: request.count + 1,
    resourceTypes,
    ...(cursor ? (cursor.forward ? { beforeSeq: cursor.values[0] } : { afterSeq: cursor.values[0] }) : {}),
  };
  let total: number | undefined;
  let rows: HistoryVersion[];
  if (resourceType && id) {
    ctx.audit.touch(`${resourceType}/${id}`);
    if (!(await readCurrent(deps.db, resourceType, id))) throw notFound(`${resourceType}/${id} is not known`);
    [rows, total] = await Promise.all([readHistory(deps.db, query), countVersions(deps.db, resourceType, id)]);
  } else {
    rows = await readHistory(deps.db, query);
  }
  const page = cutPage(rows, request.count, cursor);
  const base = `${ctx.fhirBaseUrl}${resourceType ? `/${resourceType}` : ''}${id ? `/${id}` : ''}/_history`;
  const urlFor = historyPageUrls(base, request);
  const link = pageLinks(page, request.cursor, urlFor, (row) => [row.seq]);
  // Binaries are carried without their bytes (binary/binary-json.ts).
  const withBytes = await binaryVersionsWithBytes(deps.db, page.rows);
  return { type: 'history', total, link, entry: page.rows.map((v) => historyEntry(v, ctx.fhirBaseUrl, withBytes)) };
}
