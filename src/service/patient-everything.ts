/**
 * `Patient/{id}/$everything` and `Patient/$everything`: a patient's record as a searchset Bundle,
 * a page at a time. The record is a stream in two phases, each in (resource type, id) order:
 *
 * 1. the Patient compartment (the patient and every resource the R4 CompartmentDefinition puts
 *    in it), entries with `search.mode = match`;
 * 2. the resources those members refer to, one level deep, that are not members themselves
 *    (Practitioners, Medications, Organizations, Locations…), found by walking the stored JSON
 *    for `reference` values, since many references have no search parameter: `include`.
 *
 * `_type` and `_since` filter both phases; types the caller may not read are left out and named
 * in an OperationOutcome entry (`search.mode = outcome`), as search `_include` does. A page costs
 * a few statements whatever the number of compartment parameters (src/store/patient-compartment-repository.ts).
 * `Patient/$everything` walks every patient in batches of {@link PATIENT_BATCH} by id; a page
 * never spans two batches, and a resource shared by patients of different batches appears once
 * per batch. https://hl7.org/fhir/R4/patient-operation-everything.html
 */
import { gone, notFound, type OutcomeIssue } from '../fhir/outcomes.ts';
import { patientCompartmentPairs } from '../search/patient-compartment.ts';
import {
  findCompartmentMemberTypes, readCompartmentReferences, readPatientCompartment, readPatientIds,
  type CompartmentSelection, type StreamKey,
} from '../store/patient-compartment-repository.ts';
import { readCurrent, type StoredVersion } from '../store/resource-repository.ts';
import { isAllowed } from './authorize.ts';
import type { BundleEntryResult, BundleResult } from './bundle-result.ts';
import {
  encodeEverythingCursor, parseEverythingRequest, type EverythingCursor, type EverythingParams, type EverythingRequest,
} from './everything-request.ts';
import type { FhirService } from './fhir-service.ts';
import type { RequestContext } from './request-context.ts';

export type { EverythingParams };

/**
 * Types left out unless `_type` names them: the server's own audit trail (every request that
 * touched the patient adds an AuditEvent to the compartment, so each `$everything` would change
 * the next one's answer, and its entities would pull in whatever else those requests touched).
 */
const ONLY_WHEN_ASKED = new Set(['AuditEvent']);

/** Patients per batch of `Patient/$everything`. */
export const PATIENT_BATCH = 10;

/** The bound on the work of one page. */
export interface EverythingLimits {
  /** `EVERYTHING_MAX_REFERENCING`: members whose references are followed (per patient or batch). */
  maxReferencing: number;
}

/** Where a page reads from: the patients, and the cursor to continue a batch with. */
interface Scope {
  patientIds: string[];
  /** Type level: the batch's bounds, carried in the cursors of its pages. */
  batch?: { after?: string; through: string; last: boolean };
}

/** What one page gathered. */
interface Page {
  entries: BundleEntryResult[];
  issues: OutcomeIssue[];
  hidden: Set<string>;
  next?: EverythingCursor;
}

function leftOutIssue(type: string): OutcomeIssue {
  return { severity: 'warning', code: 'forbidden', diagnostics: `${type} resources were left out: the access token's scope does not allow reading ${type}` };
}

function entryOf(ctx: RequestContext, version: StoredVersion, mode: 'match' | 'include'): BundleEntryResult {
  ctx.audit.touch(`${version.resourceType}/${version.id}`);
  return { fullUrl: `${ctx.fhirBaseUrl}/${version.resourceType}/${version.id}`, resourceJson: version.content!, search: { mode } };
}

function lastKey(rows: StoredVersion[]): StreamKey {
  const last = rows[rows.length - 1];
  return { resourceType: last.resourceType, id: last.id };
}

/** The patients of the page: the one named (404/410 unless live), or the batch the cursor is in. */
async function scopeOf(service: FhirService, patientId: string | undefined, cursor: EverythingCursor | undefined): Promise<Scope> {
  if (patientId !== undefined) {
    const patient = await readCurrent(service.db, 'Patient', patientId);
    if (!patient) throw notFound(`Patient/${patientId} is not known`);
    if (patient.deleted) throw gone(`Patient/${patientId} has been deleted`);
    return { patientIds: [patientId] };
  }
  const after = cursor?.batchAfter;
  if (cursor?.batchThrough !== undefined) {
    // Patients created inside a batch's id range while it is paged join it; twice the batch bounds that.
    const patientIds = await readPatientIds(service.db, after, cursor.batchThrough, PATIENT_BATCH * 2);
    return { patientIds, batch: { after, through: cursor.batchThrough, last: cursor.lastBatch ?? false } };
  }
  const patientIds = await readPatientIds(service.db, after, undefined, PATIENT_BATCH);
  const through = patientIds[patientIds.length - 1] ?? '';
  return { patientIds, batch: { after, through, last: patientIds.length < PATIENT_BATCH } };
}

/** The cursor of a position in the current scope. */
function cursorIn(scope: Scope, phase: EverythingCursor['phase'], after: StreamKey | undefined): EverythingCursor {
  return { phase, after, batchAfter: scope.batch?.after, batchThrough: scope.batch?.through, lastBatch: scope.batch?.last };
}

/** The types of a record when `_type` does not say. */
function defaultTypes(service: FhirService): string[] {
  return service.model.resourceTypes.filter((type) => !ONLY_WHEN_ASKED.has(type));
}

/** Phase 1: compartment members after the cursor; returns how much room is left (-1: the page is full). */
async function readMembers(
  service: FhirService, ctx: RequestContext, request: EverythingRequest, scope: Scope, readable: string[], page: Page, start: StreamKey | undefined,
): Promise<number> {
  const wanted = request.types ?? defaultTypes(service);
  const canRead = new Set(readable);
  const selection = (types: string[]): CompartmentSelection => ({
    patientIds: scope.patientIds, pairs: patientCompartmentPairs(service.model, types), withPatients: false, since: request.since,
  });
  if (start === undefined) {
    const hidden = selection(wanted.filter((t) => !canRead.has(t)));
    if (hidden.pairs.types.length > 0) for (const type of await findCompartmentMemberTypes(service.db, hidden)) page.hidden.add(type);
  }
  const members = { ...selection(wanted.filter((t) => canRead.has(t))), withPatients: wanted.includes('Patient') && canRead.has('Patient') };
  const rows = await readPatientCompartment(service.db, members, start, request.count + 1);
  const kept = rows.slice(0, request.count);
  page.entries.push(...kept.map((row) => entryOf(ctx, row, 'match')));
  if (rows.length > request.count) {
    page.next = cursorIn(scope, 'members', lastKey(kept));
    return -1;
  }
  return request.count - kept.length;
}

/** Phase 2: referenced resources after the cursor, with room for `room` entries. */
async function readReferences(
  service: FhirService, ctx: RequestContext, request: EverythingRequest, scope: Scope, readable: string[], page: Page,
  start: StreamKey | undefined, room: number, limits: EverythingLimits,
): Promise<void> {
  // Every readable member's references are followed, whatever `_type` keeps of the members.
  const walked = (type: string) => !ONLY_WHEN_ASKED.has(type) || (request.types?.includes(type) ?? false);
  const found = await readCompartmentReferences(service.db, {
    walk: { patientIds: scope.patientIds, pairs: patientCompartmentPairs(service.model, readable.filter(walked)), withPatients: true },
    maxWalked: limits.maxReferencing,
    fhirBaseUrl: ctx.fhirBaseUrl,
    readable,
    wanted: request.types ?? defaultTypes(service),
    since: request.since,
  }, start, room + 1);
  const kept = found.rows.slice(0, room);
  page.entries.push(...kept.map((row) => entryOf(ctx, row, 'include')));
  for (const type of found.hiddenTypes) page.hidden.add(type);
  if (found.truncated) {
    page.issues.push({
      severity: 'warning', code: 'incomplete',
      diagnostics: `Only the references of the first ${limits.maxReferencing} resources of the compartment were followed (EVERYTHING_MAX_REFERENCING); resources referenced only from the others are not included`,
    });
  }
  if (found.rows.length > room) {
    page.next = cursorIn(scope, 'references', kept.length > 0 ? lastKey(kept) : start);
  } else if (scope.batch && !scope.batch.last) {
    page.next = { phase: 'members', batchAfter: scope.batch.through };
  }
}

/** The page's `self` and `next` links. */
function linksOf(ctx: RequestContext, patientId: string | undefined, request: EverythingRequest, cursor: string | undefined, next: EverythingCursor | undefined) {
  const base = `${ctx.fhirBaseUrl}/Patient${patientId === undefined ? '' : `/${patientId}`}/$everything`;
  const urlFor = (value: string | undefined) => {
    const query = new URLSearchParams();
    if (request.types) query.set('_type', request.types.join(','));
    if (request.since !== undefined) query.set('_since', request.since);
    query.set('_count', String(request.count));
    if (value !== undefined) query.set('_cursor', value);
    return `${base}?${query.toString()}`;
  };
  const links = [{ relation: 'self', url: urlFor(cursor) }];
  if (next) links.push({ relation: 'next', url: urlFor(encodeEverythingCursor(next)) });
  return links;
}

/**
 * One page of `$everything` for the patient `patientId` (instance level) or for every patient
 * (undefined: type level). The caller has opened the interaction (audit, read permission on Patient).
 */
export async function patientEverything(
  service: FhirService, ctx: RequestContext, patientId: string | undefined, params: EverythingParams, limits: EverythingLimits,
): Promise<BundleResult> {
  const request = parseEverythingRequest(service.model, params, service.limits);
  const readable = service.model.resourceTypes.filter((type) => isAllowed(ctx, type, 'r'));
  const scope = await scopeOf(service, patientId, request.cursor);
  const page: Page = { entries: [], issues: [], hidden: new Set() };
  if (scope.patientIds.length > 0) {
    const cursor = request.cursor;
    let room = request.count;
    let start = cursor?.after;
    if (cursor?.phase !== 'references') {
      room = await readMembers(service, ctx, request, scope, readable, page, start);
      start = undefined;
    }
    if (room >= 0) await readReferences(service, ctx, request, scope, readable, page, start, room, limits);
  } else if (scope.batch && !scope.batch.last) {
    // Every patient of the batch was deleted meanwhile: go on with the next one.
    page.next = { phase: 'members', batchAfter: scope.batch.through };
  }
  const issues = [...[...page.hidden].sort().map(leftOutIssue), ...page.issues];
  if (issues.length > 0) {
    page.entries.push({ resourceJson: JSON.stringify({ resourceType: 'OperationOutcome', issue: issues }), search: { mode: 'outcome' } });
  }
  return { type: 'searchset', link: linksOf(ctx, patientId, request, params.cursor, page.next), entry: page.entries };
}
