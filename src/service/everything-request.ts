/**
 * The parameters of `Patient/$everything` as the service uses them (`_type`, `_since`, `_count`)
 * and its paging cursor, fhirgraph's own `_cursor`: where the next page starts in the stream a
 * request walks (the compartment's members in (type, id) order, then the resources they refer
 * to), and for `Patient/$everything` which batch of patients it is in. The cursor holds keys
 * only, so any server process can serve the next page; it is checked like any client input.
 * https://hl7.org/fhir/R4/patient-operation-everything.html
 */
import { badRequest } from '../fhir/outcomes.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { ID_PATTERN } from './interaction-start.ts';

/** The raw parameters (already typed by the operation's declarations). */
export interface EverythingParams {
  /** `_type` values, each one type or a comma-separated list. */
  types?: readonly string[];
  /** `_since` (an instant). */
  since?: string;
  /** `_count`: the page size. */
  count?: number;
  /** `_cursor`: from a `next` link. */
  cursor?: string;
}

/** Which part of the stream a page is in: compartment members, or the resources they refer to. */
export type EverythingPhase = 'members' | 'references';

/** A decoded `_cursor`. */
export interface EverythingCursor {
  phase: EverythingPhase;
  /** The last key the previous page returned in this phase (absent: the phase's start). */
  after?: { resourceType: string; id: string };
  /** `Patient/$everything`: the batch is the patients after `batchAfter` up to `batchThrough`. */
  batchAfter?: string;
  batchThrough?: string;
  /** `Patient/$everything`: no patient follows the batch. */
  lastBatch?: boolean;
}

/** A parsed request. */
export interface EverythingRequest {
  /** The types wanted (`_type`), deduplicated; undefined: every type. */
  types?: string[];
  since?: string;
  count: number;
  cursor?: EverythingCursor;
}

const MAX_CURSOR_LENGTH = 1024;
const TYPE_NAME = /^[A-Z][A-Za-z]{0,63}$/;

function invalidCursor(): Error {
  return badRequest('_cursor is not a cursor this server issued for $everything', '_cursor');
}

/** Encodes a cursor for a `next` link. */
export function encodeEverythingCursor(cursor: EverythingCursor): string {
  const value: Record<string, string> = { p: cursor.phase === 'members' ? 'm' : 'r' };
  if (cursor.after) {
    value.t = cursor.after.resourceType;
    value.i = cursor.after.id;
  }
  if (cursor.batchAfter !== undefined) value.a = cursor.batchAfter;
  if (cursor.batchThrough !== undefined) value.b = cursor.batchThrough;
  if (cursor.lastBatch) value.l = '1';
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes `_cursor`; 400 unless it is one this server issued (every key checked). */
export function decodeEverythingCursor(model: FhirModel, text: string): EverythingCursor {
  if (text.length > MAX_CURSOR_LENGTH) throw invalidCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidCursor();
  const { p, t, i, a, b, l, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || (p !== 'm' && p !== 'r') || (l !== undefined && l !== '1')) throw invalidCursor();
  const isId = (v: unknown) => typeof v === 'string' && ID_PATTERN.test(v);
  const cursor: EverythingCursor = { phase: p === 'm' ? 'members' : 'references' };
  if (t !== undefined || i !== undefined) {
    if (typeof t !== 'string' || !model.isResourceType(t) || !isId(i)) throw invalidCursor();
    cursor.after = { resourceType: t, id: i as string };
  }
  if (a !== undefined) {
    if (!isId(a)) throw invalidCursor();
    cursor.batchAfter = a as string;
  }
  if (b !== undefined) {
    if (!isId(b)) throw invalidCursor();
    cursor.batchThrough = b as string;
  }
  if (l === '1') cursor.lastBatch = true;
  return cursor;
}

/**
 * Checks the parameters: every `_type` a known resource type, `_count` at least 1 (capped at
 * `maxCount`, default `defaultCount`), the cursor one this server issued; 400 otherwise.
 */
export function parseEverythingRequest(
  model: FhirModel, params: EverythingParams, limits: { defaultCount: number; maxCount: number },
): EverythingRequest {
  const request: EverythingRequest = { count: limits.defaultCount, since: params.since };
  if (params.types && params.types.length > 0) {
    const types = new Set<string>();
    for (const value of params.types) {
      for (const name of value.split(',').map((s) => s.trim())) {
        if (!TYPE_NAME.test(name) || !model.isResourceType(name)) {
          throw badRequest(`_type "${name.slice(0, 64)}" is not a FHIR R4 resource type`, '_type');
        }
        types.add(name);
      }
    }
    request.types = [...types].sort();
  }
  if (params.count !== undefined) {
    if (params.count < 1) throw badRequest('_count must be at least 1 ($everything always answers in pages)', '_count');
    request.count = Math.min(params.count, limits.maxCount);
  }
  if (params.cursor !== undefined) request.cursor = decodeEverythingCursor(model, params.cursor);
  return request;
}
