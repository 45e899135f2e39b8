/**
 * The one write path of the store. A list of write operations (create, update, patch, delete)
 * is applied inside the caller's transaction: the touched resources are locked, versions and
 * `If-Match` preconditions are checked, patches applied and validated, and every new version is
 * persisted in one batch together with its references and change event (the outbox).
 * https://hl7.org/fhir/R4/http.html#versioning
 */
import type { ResourceLimits } from '../config.ts';
import { assertBundleBounds, assertResourceBounds } from '../fhir/assert-resource-bounds.ts';
import { FhirError, gone, invalidResource, invariant, notFound, preconditionFailed, type OutcomeIssue } from '../fhir/outcomes.ts';
import { validateResource, validateResourceInSlices } from '../fhir/validate-resource.ts';
import type { Queryable } from '../store/database.ts';
import {
  lockResources, readCurrentMany, writeVersions, type CurrentState, type StoredVersion, type VersionToWrite,
} from '../store/resource-repository.ts';
import { TimeSlice } from '../fhir/time-slice.ts';
import { applyJsonPatch } from './apply-json-patch.ts';
import { authorizeOwnership } from './authorize.ts';
import { extractIndexRows } from '../search/extract-index-rows.ts';
import { stringifyFhirJsonInSlices } from '../fhir/fhir-json.ts';
import type { RequestContext } from './request-context.ts';
import type { AuditRecord } from './audit/audit-event.ts';
import { auditRowOf } from './audit/audit-log.ts';
import { buildStoredResource, type FhirResource } from './resource-content.ts';
import { DEFAULT_MAX_BINARY_BYTES, type ServiceLimits } from './service-limits.ts';
import { prepareSubscription, saveSubscriptionPrivate, type SubscriptionPrivateWrite, type SubscriptionRules } from './subscription/subscription-write.ts';
import { bookSlots, type AppointmentChange } from './scheduling/slot-booking.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { readBinaryContent, type BinaryContentRef } from '../store/binary-store.ts';
import { markSubsetted } from './binary/binary-json.ts';
import { saveBinaryContents, takeBinaryData, type BinaryVersionWrite, type PlannedBinary } from './binary/binary-write.ts';

export type WriteOp = (
  | { kind: 'create'; resourceType: string; id: string; resource: FhirResource; label?: string; binary?: BinaryContentRef }
  | { kind: 'update'; resourceType: string; id: string; resource: FhirResource; ifMatch?: number; label?: string; binary?: BinaryContentRef }
  | { kind: 'patch'; resourceType: string; id: string; patch: unknown; ifMatch?: number; label?: string }
  | { kind: 'delete'; resourceType: string; id: string; ifMatch?: number; label?: string }
) & {
  /** `false` for the server's own bookkeeping writes, which the change feed must not publish (`VersionToWrite.emitChange`). */
  emitChange?: false;
};

/**
 * The rules writes are checked by: resource bounds, how Subscriptions are checked
 * (subscription-write.ts), and the largest Binary content (`MAX_BINARY`).
 */
export interface WriteRules {
  resource: ResourceLimits;
  subscription: SubscriptionRules;
  maxBinaryBytes: number;
}

/** The write rules of a service's limits. */
export function writeRulesOf(limits: ServiceLimits): WriteRules {
  return {
    resource: limits.resource,
    subscription: { search: limits.search, allowPrivateEndpoints: limits.webhookAllowPrivate ?? false },
    maxBinaryBytes: limits.maxBinaryBytes ?? DEFAULT_MAX_BINARY_BYTES,
  };
}

/** What a write did. `version` is the new version, or the unchanged one for a repeated delete. */
export interface WriteResult {
  version: StoredVersion;
  /** True when the resource did not exist (or was deleted) before this write. */
  created: boolean;
  /** False when nothing changed (deleting a resource that is already deleted). */
  changed: boolean;
}

/**
 * Validates a resource and throws a 422 listing every issue; `label` prefixes the expressions
 * (for example `Bundle.entry[3].resource`) so a client can tell which entry failed. The cheap
 * bounds check (repetitions, decimals) comes first, so an oversized resource costs no validation.
 */
export function assertValid(resource: unknown, resourceType: string, limits: ResourceLimits, label?: string): void {
  assertResourceBounds(resource, label ?? resourceType, limits);
  const issues = validateResource(resource, resourceType).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (issues.length > 0) throw invalidResource(label ? issues.map((i) => relabel(i, resourceType, label)) : issues);
}

/**
 * {@link assertValid} in time slices, for a resource written on its own (create, update): a
 * Bundle's bounds entry by entry, then validation member by member, pausing for other clients
 * whenever a slice is used up. The same checks and answers.
 */
export async function assertValidInSlices(resource: FhirResource, resourceType: string, limits: ResourceLimits): Promise<void> {
  const slice = new TimeSlice();
  if (resourceType === 'Bundle') await assertBundleBounds(resource, limits, slice);
  else assertResourceBounds(resource, resourceType, limits);
  const issues = (await validateResourceInSlices(resource, resourceType, slice)).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (issues.length > 0) throw invalidResource(issues);
}

function relabel(issue: OutcomeIssue, resourceType: string, label: string): OutcomeIssue {
  const expression = issue.expression?.map((e) => (e.startsWith(resourceType) ? label + e.slice(resourceType.length) : `${label}.${e}`));
  return { ...issue, expression: expression ?? [label], diagnostics: `${label}: ${issue.diagnostics ?? issue.code}` };
}

function withLabel(err: FhirError, label: string | undefined): FhirError {
  if (!label) return err;
  const issue = err.outcome.issue.map((i) => ({ ...i, diagnostics: `${label}: ${i.diagnostics ?? i.code}`, expression: i.expression ?? [label] }));
  return new FhirError(err.status, { ...err.outcome, issue }, err.headers);
}

/** 412 unless `If-Match` (when given) names the current version. */
export function checkIfMatch(ifMatch: number | undefined, currentVersion: number | undefined, key: string): void {
  if (ifMatch === undefined) return;
  if (currentVersion === undefined) throw preconditionFailed(`${key} does not exist, so If-Match W/"${ifMatch}" cannot match`);
  if (currentVersion !== ifMatch) {
    throw preconditionFailed(`${key} is at version ${currentVersion}, not ${ifMatch} (If-Match)`);
  }
}

/** How {@link applyWrites} ends the caller's write. */
export interface WriteOptions {
  /** The writes' time (`meta.lastUpdated`); now by default. */
  now?: Date;
  /**
   * The request's AuditEvent, given the results (undefined: none), once every write is planned
   * (so it names every resource they touched): stored by the same statement as the versions, so
   * it exists exactly when they do, at no round trip of its own.
   */
  audit?: (results: WriteResult[]) => AuditRecord | undefined;
  /**
   * The caller's transaction sends nothing after these writes: a write that is one statement
   * (a plain create, see `QueryOptions.last`) then runs without `BEGIN`/`COMMIT`.
   */
  last?: boolean;
  /**
   * The targets' states, read without locks (`readStates`, unlocked-write.ts): the write statement
   * then takes the locks itself and fails with `StaleStateError` when one of them changed
   * meanwhile. Only for writes that are one statement (`last`, no Subscription, Binary or Slot booking).
   */
  readStates?: Map<string, CurrentState>;
}

/**
 * Applies write operations in the caller's transaction and returns one result per operation,
 * in order. Creates must carry fresh ids; updates, patches and deletes lock their targets.
 * Subscriptions are checked and their private side recorded (subscription-write.ts); the Slots
 * that Appointments take or let go are booked or freed in the same batch (scheduling/slot-booking.ts).
 * Throws a {@link FhirError} (labelled with the operation's `label`) on the first failure, so the
 * caller's transaction rolls everything back.
 */
export async function applyWrites(tx: Queryable, ops: WriteOp[], ctx: RequestContext, rules: WriteRules, options: WriteOptions = {}): Promise<WriteResult[]> {
  const now = options.now ?? new Date();
  const key = (op: WriteOp) => `${op.resourceType}/${op.id}`;
  const existing = ops.filter((op) => op.kind !== 'create');
  const states = options.readStates ?? await lockResources(tx, existing.map((op) => ({ resourceType: op.resourceType, id: op.id })));
  // Patches apply to the current content; an Appointment's current content tells which Slots it holds.
  const patchTargets = ops.filter((op) => op.kind === 'patch');
  const readTargets = ops.filter((op) => op.kind === 'patch' || (op.kind !== 'create' && op.resourceType === 'Appointment'));
  const currents = readTargets.length ? await readCurrentMany(tx, readTargets) : new Map<string, StoredVersion>();
  const keptBytes = await readPatchedBinaries(tx, patchTargets, states);

  const versions: VersionToWrite[] = [];
  const results: WriteResult[] = [];
  const subscriptions: SubscriptionPrivateWrite[] = [];
  const appointments: AppointmentChange[] = [];
  const binaries: BinaryVersionWrite[] = [];
  // A transaction's writes are planned (serialised, indexed) in slices, pausing for other clients.
  const slice = new TimeSlice();
  for (const op of ops) {
    if (slice.due()) await slice.pause();
    try {
      const state = states.get(key(op));
      if (op.kind !== 'create') authorizeOwnership(ctx, op.resourceType, state?.createdBy);
      const current = currents.get(key(op));
      const result = await planWrite(op, state, current, ctx, rules, now, slice, keptBytes.get(key(op)));
      if (result.subscription) subscriptions.push(result.subscription);
      if (op.resourceType === 'Appointment' && result.write) {
        appointments.push({ before: current?.content ? parseFhirJson(current.content) : undefined, after: result.resource, label: op.label });
      }
      if (result.write && result.binary) binaries.push({ id: op.id, versionId: result.write.versionId, binary: result.binary });
      if (result.write) {
        versions.push(result.write);
        states.set(key(op), { versionId: result.write.versionId, deleted: result.write.deleted, createdBy: state?.createdBy ?? ctx.auth.clientId });
        ctx.audit.touch(key(op));
      }
      results.push(result.result);
    } catch (err) {
      throw err instanceof FhirError ? withLabel(err, op.label) : err;
    }
  }
  await bookSlots(tx, appointments, versions, { ctx, now, maxIndexRows: rules.resource.maxIndexRows, slice });
  const record = options.audit?.(results);
  // The Subscription and Binary statements come after the versions' (their rows refer to them).
  const last = options.last === true && subscriptions.length === 0 && binaries.length === 0;
  const lockFirst = options.readStates !== undefined;
  invariant(!lockFirst || (last && appointments.length === 0 && patchTargets.length === 0), 'Only a one-statement write may skip the lock round');
  await writeVersions(tx, versions, { audit: record && auditRowOf(record), last, lockFirst });
  await saveSubscriptionPrivate(tx, subscriptions, ctx);
  await saveBinaryContents(tx, binaries, rules.maxBinaryBytes);
  return results;
}

/** The bytes of the current version of each Binary a PATCH targets (kept by the patched version unless it sets `data`). */
async function readPatchedBinaries(tx: Queryable, targets: WriteOp[], states: Map<string, CurrentState>): Promise<Map<string, BinaryContentRef>> {
  const kept = new Map<string, BinaryContentRef>();
  for (const op of targets) {
    const state = states.get(`${op.resourceType}/${op.id}`);
    if (op.resourceType !== 'Binary' || !state || state.deleted) continue;
    const ref = await readBinaryContent(tx, op.id, state.versionId);
    if (ref) kept.set(`${op.resourceType}/${op.id}`, ref);
  }
  return kept;
}

/** A planned write: the version to store (none for a repeated delete), its result, a Subscription's private side and a Binary's bytes. */
interface PlannedWrite {
  write?: VersionToWrite;
  /** The new version as stored (none for a delete). */
  resource?: FhirResource;
  result: WriteResult;
  subscription?: SubscriptionPrivateWrite;
  binary?: PlannedBinary;
}

async function planWrite(
  op: WriteOp,
  state: CurrentState | undefined,
  current: StoredVersion | undefined,
  ctx: RequestContext,
  rules: WriteRules,
  now: Date,
  slice: TimeSlice,
  keptBytes?: BinaryContentRef,
): Promise<PlannedWrite> {
  const label = `${op.resourceType}/${op.id}`;
  const limits = rules.resource;
  const isSubscription = op.resourceType === 'Subscription';
  if (op.kind === 'delete') {
    if (!state) throw notFound(`${label} does not exist`);
    checkIfMatch(op.ifMatch, state.versionId, label);
    const version: StoredVersion = { resourceType: op.resourceType, id: op.id, versionId: state.versionId, lastUpdated: now, deleted: true, content: null };
    if (state.deleted) return { result: { version, created: false, changed: false } };
    const write: VersionToWrite = { ...version, versionId: state.versionId + 1, method: 'DELETE', action: 'delete', indexRows: [], emitChange: op.emitChange };
    const subscription: SubscriptionPrivateWrite | undefined = isSubscription ? { id: op.id, kind: 'touch', deleted: true } : undefined;
    return { write, result: { version: write, created: false, changed: true }, subscription };
  }
  let resource: FhirResource;
  let method: VersionToWrite['method'];
  if (op.kind === 'patch') {
    if (!state || !current) throw notFound(`${label} does not exist`);
    if (state.deleted || current.content === null) throw gone(`${label} has been deleted`);
    checkIfMatch(op.ifMatch, state.versionId, label);
    resource = applyJsonPatch(current.content, op.patch, op, limits);
    assertValid(resource, op.resourceType, limits);
    method = 'PATCH';
  } else {
    if (op.kind === 'update') checkIfMatch(op.ifMatch, state && !state.deleted ? state.versionId : undefined, label);
    resource = op.resource;
    method = op.kind === 'create' ? 'POST' : 'PUT';
  }
  let subscription: SubscriptionPrivateWrite | undefined;
  if (isSubscription && op.emitChange === false) {
    subscription = { id: op.id, kind: 'touch', deleted: false }; // the server's own bookkeeping
  } else if (isSubscription) {
    const prepared = prepareSubscription(resource, ctx, rules.subscription);
    resource = prepared.resource;
    subscription = { id: op.id, kind: 'author', secret: prepared.secret };
  }
  let binary: PlannedBinary | undefined;
  if (op.resourceType === 'Binary') {
    // The bytes are stored apart (binary-write.ts); the JSON keeps everything but `data`.
    ({ resource, binary } = takeBinaryData(resource, rules.maxBinaryBytes, op.kind === 'patch' ? undefined : op.binary, keptBytes));
  }
  const created = !state || state.deleted;
  const versionId = state ? state.versionId + 1 : 1;
  const stored = buildStoredResource(resource, op.id, versionId, now);
  const write: VersionToWrite = {
    resourceType: op.resourceType,
    id: op.id,
    versionId,
    lastUpdated: now,
    deleted: false,
    // A Bundle resource of up to MAX_BODY is serialised entry by entry, in slices.
    content: await stringifyFhirJsonInSlices(stored, slice),
    method,
    action: created ? 'create' : 'update',
    indexRows: extractIndexRows(stored, { baseUrl: ctx.fhirBaseUrl, maxRows: limits.maxIndexRows }),
    createdBy: ctx.auth.clientId,
    emitChange: op.emitChange,
  };
  // The answer carries the JSON without `data`, marked as such (binary-json.ts).
  const answered = binary && write.content !== null ? { ...write, content: markSubsetted(write.content) } : write;
  return { write, resource: stored, result: { version: answered, created, changed: true }, subscription, binary };
}
