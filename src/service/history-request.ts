/**
 * The parameters of a history interaction (https://hl7.org/fhir/R4/http.html#history): `_count`,
 * `_since` (versions written at or after an instant), `_at` (versions current at some point of
 * the period a date, dateTime or instant names) and the paging `_cursor`. The last value of a
 * repeated parameter counts; other parameters are ignored.
 */
import { badRequest } from '../fhir/outcomes.ts';
import { dateRange } from '../search/extract/date-range.ts';
import type { ServiceLimits } from './service-limits.ts';

/** A parsed history request; the `…Text` fields keep what the client sent, for paging links. */
export interface HistoryRequest {
  count: number;
  since?: Date;
  sinceText?: string;
  at?: { low: string; high: string };
  atText?: string;
  cursor?: string;
}

const INSTANT = /^[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$/;

function parseSince(value: string): Date {
  const date = INSTANT.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw badRequest(`_since "${value.slice(0, 40)}" is not a FHIR instant`, '_since');
  return date;
}

function parseAt(value: string): { low: string; high: string } {
  const range = dateRange(value);
  if (!range?.low || !range.high) throw badRequest(`_at "${value.slice(0, 40)}" is not a FHIR date, dateTime or instant`, '_at');
  return { low: range.low, high: range.high };
}

function parseCount(value: string, limits: Pick<ServiceLimits, 'maxCount'>): number {
  if (!/^[0-9]{1,7}$/.test(value)) throw badRequest(`_count "${value.slice(0, 20)}" is not a non-negative integer`, '_count');
  return Math.min(Math.max(Number(value), 1), limits.maxCount);
}

/** Parses a history query's parameters (in order, repeats kept); 400 for a malformed value. */
export function parseHistoryRequest(params: [string, string][], limits: Pick<ServiceLimits, 'defaultCount' | 'maxCount'>): HistoryRequest {
  const last = new Map(params);
  const request: HistoryRequest = { count: limits.defaultCount };
  const count = last.get('_count');
  if (count !== undefined) request.count = parseCount(count, limits);
  const since = last.get('_since');
  if (since !== undefined) {
    request.since = parseSince(since);
    request.sinceText = since;
  }
  const at = last.get('_at');
  if (at !== undefined) {
    request.at = parseAt(at);
    request.atText = at;
  }
  request.cursor = last.get('_cursor');
  return request;
}

/**
 * The paging-link URL maker of a history Bundle at `base` (`…/_history`): the request's `_count`,
 * `_since` and `_at` as the client sent them, and the page's `_cursor`.
 */
export function historyPageUrls(base: string, request: HistoryRequest): (cursor?: string) => string {
  return (cursor) => {
    const params = new URLSearchParams({ _count: String(request.count) });
    if (request.sinceText !== undefined) params.set('_since', request.sinceText);
    if (request.atText !== undefined) params.set('_at', request.atText);
    if (cursor) params.set('_cursor', cursor);
    return `${base}?${params.toString()}`;
  };
}
