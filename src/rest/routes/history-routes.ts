/**
 * History at instance, type and system level, newest first, paged with an opaque keyset cursor
 * so `next` and `previous` links keep working while data changes.
 * https://hl7.org/fhir/R4/http.html#history
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../../fhir/outcomes.ts';
import { dateRange } from '../../search/extract/date-range.ts';
import type { BundleEntryResult, BundleResult } from '../../service/bundle-result.ts';
import type { HistoryQuery, HistoryVersion } from '../../store/resource-repository.ts';
import type { FhirRoute, Params, Query, RouteDeps } from '../fhir-route.ts';
import { renderBundle } from '../render-bundle.ts';
import { sendJson } from '../reply.ts';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

const INSTANT = /^[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$/;

function parseSince(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = INSTANT.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw badRequest(`_since "${value.slice(0, 40)}" is not a FHIR instant`, '_since');
  return date;
}

/** `_at`: the period its date, dateTime or instant covers (https://hl7.org/fhir/R4/http.html#history). */
function parseAt(value: string | undefined): HistoryQuery['at'] {
  if (value === undefined) return undefined;
  const range = dateRange(value);
  if (!range?.low || !range.high) throw badRequest(`_at "${value.slice(0, 40)}" is not a FHIR date, dateTime or instant`, '_at');
  return { low: range.low, high: range.high };
}

function parseCount(value: string | undefined, deps: RouteDeps): number {
  if (value === undefined) return deps.config.defaultCount;
  if (!/^[0-9]{1,7}$/.test(value)) throw badRequest(`_count "${value.slice(0, 20)}" is not a non-negative integer`, '_count');
  return Math.min(Math.max(Number(value), 1), deps.config.maxCount);
}

/** Cursor tokens: `b<seq>` pages to older versions, `a<seq>` to newer ones. */
function parseCursor(value: string | undefined): Pick<HistoryQuery, 'beforeSeq' | 'afterSeq'> {
  if (value === undefined) return {};
  const m = /^([ab])([0-9]{1,19})$/.exec(value);
  if (!m) throw badRequest('_cursor is not a cursor this server issued', '_cursor');
  return m[1] === 'b' ? { beforeSeq: m[2] } : { afterSeq: m[2] };
}

function historyEntry(version: HistoryVersion, fhirBaseUrl: string): BundleEntryResult {
  const path = `${version.resourceType}/${version.id}`;
  const status = version.deleted ? '204 No Content' : version.method === 'POST' || version.versionId === 1 ? '201 Created' : '200 OK';
  return {
    fullUrl: `${fhirBaseUrl}/${path}`,
    resourceJson: version.content ?? undefined,
    request: { method: version.method, url: version.method === 'POST' ? version.resourceType : path },
    response: { status, etag: `W/"${version.versionId}"`, lastModified: version.lastUpdated.toISOString() },
  };
}

async function history(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const { type, id } = request.params as Params;
  const query = request.query as Query;
  const ctx = deps.context(request);
  const count = parseCount(single(query._count), deps);
  const cursor = parseCursor(single(query._cursor));
  const since = parseSince(single(query._since));
  const at = parseAt(single(query._at));
  const { versions, total } = await deps.service.history(ctx, { resourceType: type, id, since, at, ...cursor, limit: count + 1 });
  const forward = cursor.afterSeq === undefined;
  const hasMore = versions.length > count;
  const page = forward ? versions.slice(0, count) : versions.slice(versions.length > count ? 1 : 0);
  const base = `${ctx.fhirBaseUrl}${type ? `/${type}` : ''}${id ? `/${id}` : ''}/_history`;
  const linkFor = (extra: string) => {
    const params = new URLSearchParams();
    params.set('_count', String(count));
    if (since) params.set('_since', single(query._since)!);
    if (at) params.set('_at', single(query._at)!);
    if (extra) params.set('_cursor', extra);
    return `${base}?${params.toString()}`;
  };
  const link = [{ relation: 'self', url: linkFor(single(query._cursor) ?? '') }];
  if (page.length > 0 && (forward ? hasMore : true)) link.push({ relation: 'next', url: linkFor(`b${page[page.length - 1].seq}`) });
  if (page.length > 0 && (forward ? cursor.beforeSeq !== undefined : hasMore)) link.push({ relation: 'previous', url: linkFor(`a${page[0].seq}`) });
  const bundle: BundleResult = { type: 'history', total, link, entry: page.map((v) => historyEntry(v, ctx.fhirBaseUrl)) };
  return sendJson(request, reply, 200, renderBundle(bundle));
}

export const historyRoutes: FhirRoute[] = [
  { method: 'GET', url: '/fhir/:type/:id/_history', capabilities: [{ level: 'type', interaction: 'history-instance' }], handler: history },
  { method: 'GET', url: '/fhir/:type/_history', capabilities: [{ level: 'type', interaction: 'history-type' }], handler: history },
  { method: 'GET', url: '/fhir/_history', capabilities: [{ level: 'system', interaction: 'history-system' }], handler: history },
];
