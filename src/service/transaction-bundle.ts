/**
 * `batch` and `transaction` Bundles posted to the service base
 * (https://hl7.org/fhir/R4/http.html#transaction). A transaction is all or nothing: its writes
 * run in one database transaction in the spec's order (DELETE, POST, PUT/PATCH, then GET),
 * `urn:uuid:` fullUrls are replaced by the assigned ids in every reference, and the first
 * failure rolls everything back with an OperationOutcome naming the entry. A batch runs each
 * entry on its own and reports each entry's outcome.
 */
import { randomUUID } from 'node:crypto';
import { FhirError, badRequest, gone, invalidResource, notFound, type OutcomeIssue } from '../fhir/outcomes.ts';
import { validateResourceInSlices } from '../fhir/validate-resource.ts';
import { assertBundleBounds } from '../fhir/assert-resource-bounds.ts';
import { TimeSlice } from '../fhir/time-slice.ts';
import { readCurrent, type StoredVersion } from '../store/resource-repository.ts';
import type { BundleEntryResult, BundleResult } from './bundle-result.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { Database } from '../store/database.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { findConditionalMatch } from './conditional-match.ts';
import type { ServiceLimits } from './service-limits.ts';
import { findPlaceholderReferences, rewriteReferences } from './rewrite-references.ts';
import type { RequestContext } from './request-context.ts';
import { isJsonObject, type FhirResource } from './resource-content.ts';
import { applyWrites, writeRulesOf, type WriteOp, type WriteResult } from './write-ops.ts';
import { authorize } from './authorize.ts';
import type { Permission } from '../auth/scopes.ts';
import { RequestAudit } from './audit/request-audit.ts';
import { auditRecordOf } from './request-context.ts';
import { parseEntryRequest, type EntryRequest } from './entry-request.ts';

/**
 * The single interactions a batch entry runs, each opened, authorised and audited as if it were
 * sent on its own (the core service provides them).
 */
export interface EntryInteractions {
  read(ctx: RequestContext, resourceType: string, id: string): Promise<StoredVersion>;
  vread(ctx: RequestContext, resourceType: string, id: string, versionId: string): Promise<StoredVersion>;
  create(ctx: RequestContext, resourceType: string, body: unknown, options: { ifNoneExist?: string }): Promise<WriteResult>;
  update(ctx: RequestContext, resourceType: string, id: string, body: unknown, options: { ifMatch?: number }): Promise<WriteResult>;
  patch(ctx: RequestContext, resourceType: string, id: string, patch: unknown, options: { ifMatch?: number }): Promise<WriteResult>;
  delete(ctx: RequestContext, resourceType: string, id: string, options: { ifMatch?: number }): Promise<WriteResult>;
}

/** What Bundle processing needs: storage, audit, the model, the limits and the single interactions. */
export interface BundleDeps {
  readonly db: Database;
  readonly auditLog: AuditLog;
  readonly model: FhirModel;
  readonly limits: ServiceLimits;
  readonly interactions: EntryInteractions;
}

const METHOD_ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
const MAX_ISSUES = 100;

/** Processes a posted Bundle of type `batch` or `transaction`. */
export async function processBundle(deps: BundleDeps, ctx: RequestContext, body: unknown): Promise<BundleResult> {
  if (!isJsonObject(body) || body.resourceType !== 'Bundle') {
    throw badRequest('POST to the base URL takes a Bundle of type batch or transaction', 'Bundle');
  }
  if (body.type !== 'transaction' && body.type !== 'batch') {
    throw badRequest(`Bundle.type must be "batch" or "transaction", not "${String(body.type)}"`, 'Bundle.type');
  }
  if (body.entry !== undefined && !Array.isArray(body.entry)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  // Up to MAX_BODY of entries: every step over all of them pauses for other clients between slices.
  const slice = new TimeSlice();
  // Entries, their resources and patches, before any entry is planned or validated.
  await assertBundleBounds(body, deps.limits.resource, slice);
  const entries = (body.entry ?? []) as unknown[];
  assertUniqueFullUrls(entries);
  // One rate-limit unit per entry, as if each were sent on its own; the request paid one already.
  await ctx.chargeWork?.(entries.length - 1);
  return body.type === 'transaction'
    ? processTransaction(deps, ctx, entries, slice)
    : processBatch(deps, ctx, entries, slice);
}

/**
 * bdl-7: a fullUrl names one entry (entries of a history Bundle may share one with different
 * `meta.versionId`s), so references to it are not ambiguous.
 */
function assertUniqueFullUrls(entries: unknown[]): void {
  const seen = new Map<string, number>();
  entries.forEach((raw, index) => {
    if (!isJsonObject(raw) || typeof raw.fullUrl !== 'string') return;
    const meta = isJsonObject(raw.resource) && isJsonObject(raw.resource.meta) ? raw.resource.meta : undefined;
    const key = `${raw.fullUrl}\u0000${String(meta?.versionId ?? '')}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw badRequest(
        `${entryLabel(index)} has the same fullUrl as ${entryLabel(first)} ("${raw.fullUrl.slice(0, 100)}"); bdl-7: a fullUrl must be unique in a Bundle`,
        `${entryLabel(index)}.fullUrl`,
      );
    }
    seen.set(key, index);
  });
}

/**
 * Every `urn:uuid:`/`urn:oid:` reference in a transaction must be the fullUrl of an entry that
 * creates or puts a resource; anything else would be stored as a reference to nothing.
 */
function assertPlaceholdersDefined(entries: PlannedEntry[]): void {
  const defined = new Set<string>();
  for (const entry of entries) {
    if (entry.fullUrl && (entry.request.method === 'POST' || entry.request.method === 'PUT')) defined.add(entry.fullUrl);
  }
  for (const entry of entries) {
    if (!entry.resource || (entry.request.method !== 'POST' && entry.request.method !== 'PUT')) continue;
    const missing = findPlaceholderReferences(entry.resource).find((r) => !defined.has(r.reference));
    if (missing) {
      const label = entryLabel(entry.index);
      throw badRequest(
        `${label}: the reference "${missing.reference.slice(0, 100)}" is not the fullUrl of any entry of this transaction that creates or updates a resource`,
        `${label}.resource.${missing.path}`,
      );
    }
  }
}

function versionResponse(version: StoredVersion, status: string): BundleEntryResult {
  const location = `${version.resourceType}/${version.id}/_history/${version.versionId}`;
  return {
    fullUrl: undefined,
    resourceJson: version.content ?? undefined,
    response: { status, location, etag: `W/"${version.versionId}"`, lastModified: version.lastUpdated.toISOString() },
  };
}

function writeResponse(result: WriteResult, kind: WriteOp['kind'], ctx: RequestContext): BundleEntryResult {
  const { version } = result;
  if (kind === 'delete') {
    return { response: { status: '204 No Content', etag: `W/"${version.versionId}"` } };
  }
  const entry = versionResponse(version, result.created ? '201 Created' : '200 OK');
  entry.fullUrl = `${ctx.fhirBaseUrl}/${version.resourceType}/${version.id}`;
  return entry;
}

interface PlannedEntry {
  index: number;
  request: EntryRequest;
  resource?: FhirResource;
  fullUrl?: string;
  /** For POST entries: the id this transaction assigns (or the existing match's id). */
  id?: string;
  matchedExisting?: StoredVersion;
}

function entryLabel(index: number): string {
  return `Bundle.entry[${index}]`;
}

function planEntry(model: FhirModel, ctx: RequestContext, raw: unknown, index: number, transaction: boolean): PlannedEntry {
  const label = entryLabel(index);
  if (!isJsonObject(raw)) throw badRequest(`${label} must be an object`, label);
  const request = parseEntryRequest(model, raw.request, label, ctx.fhirBaseUrl);
  const planned: PlannedEntry = { index, request };
  if (typeof raw.fullUrl === 'string') planned.fullUrl = raw.fullUrl;
  if (request.method === 'POST' || request.method === 'PUT') {
    if (!isJsonObject(raw.resource)) throw badRequest(`${label}.resource is required for ${request.method}`, `${label}.resource`);
    if (raw.resource.resourceType !== request.resourceType) {
      throw badRequest(`${label}.resource is a ${String(raw.resource.resourceType)}, but request.url names ${request.resourceType}`, `${label}.resource.resourceType`);
    }
    planned.resource = raw.resource as FhirResource;
    if (request.method === 'PUT' && planned.resource.id !== request.id) {
      throw badRequest(`${label}.resource.id must equal the id in request.url (${request.id})`, `${label}.resource.id`);
    }
  }
  if (request.method === 'PATCH') {
    planned.resource = raw.resource as FhirResource;
  }
  if (transaction && request.method === 'POST') planned.id = randomUUID();
  return planned;
}

/** Reads a JSON Patch carried by a Binary resource (the R4 way to PATCH inside a Bundle). */
function patchFromEntry(entry: PlannedEntry, label: string): unknown {
  const binary = entry.resource as Record<string, unknown> | undefined;
  if (!binary || binary.resourceType !== 'Binary' || typeof binary.data !== 'string') {
    throw badRequest(`${label}: PATCH in a Bundle needs a Binary resource whose data holds a JSON Patch`, `${label}.resource`);
  }
  try {
    return JSON.parse(Buffer.from(binary.data, 'base64').toString('utf8'));
  } catch {
    throw badRequest(`${label}: the Binary data is not a JSON Patch`, `${label}.resource.data`);
  }
}

function toWriteOp(entry: PlannedEntry): WriteOp | undefined {
  const { request } = entry;
  const label = `${entryLabel(entry.index)}`;
  switch (request.method) {
    case 'POST':
      return { kind: 'create', resourceType: request.resourceType, id: entry.id!, resource: entry.resource!, label };
    case 'PUT':
      return { kind: 'update', resourceType: request.resourceType, id: request.id!, resource: entry.resource!, ifMatch: request.ifMatch, label };
    case 'PATCH':
      return { kind: 'patch', resourceType: request.resourceType, id: request.id!, patch: patchFromEntry(entry, label), ifMatch: request.ifMatch, label };
    case 'DELETE':
      return { kind: 'delete', resourceType: request.resourceType, id: request.id!, ifMatch: request.ifMatch, label };
    default:
      return undefined;
  }
}

async function collectValidationIssues(entries: PlannedEntry[], slice: TimeSlice): Promise<OutcomeIssue[]> {
  const issues: OutcomeIssue[] = [];
  for (const entry of entries) {
    if (slice.due()) await slice.pause();
    if (!entry.resource || (entry.request.method !== 'POST' && entry.request.method !== 'PUT') || entry.matchedExisting) continue;
    const label = `${entryLabel(entry.index)}.resource`;
    for (const issue of await validateResourceInSlices(entry.resource, entry.request.resourceType, slice)) {
      if (issue.severity !== 'error' && issue.severity !== 'fatal') continue;
      const type = entry.request.resourceType;
      const expression = (issue.expression ?? [type]).map((e) => (e.startsWith(type) ? label + e.slice(type.length) : `${label}.${e}`));
      issues.push({ ...issue, expression, diagnostics: `${entryLabel(entry.index)}: ${issue.diagnostics ?? issue.code}` });
      if (issues.length >= MAX_ISSUES) return issues;
    }
  }
  return issues;
}

const PERMISSIONS: Record<string, Permission> = { GET: 'r', HEAD: 'r', POST: 'c', PUT: 'u', PATCH: 'u', DELETE: 'd' };

/** Every entry is authorised like the interaction it stands for; a refusal names the entry. */
function authorizeEntry(ctx: RequestContext, entry: PlannedEntry): void {
  try {
    authorize(ctx, entry.request.resourceType, PERMISSIONS[entry.request.method]);
    if (entry.request.ifNoneExist !== undefined) authorize(ctx, entry.request.resourceType, 's');
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    const label = entryLabel(entry.index);
    throw new FhirError(err.status, {
      ...err.outcome,
      issue: err.outcome.issue.map((i) => ({ ...i, diagnostics: `${label}: ${i.diagnostics}`, expression: [label] })),
    });
  }
}

async function processTransaction(deps: BundleDeps, ctx: RequestContext, rawEntries: unknown[], slice: TimeSlice): Promise<BundleResult> {
  ctx.audit.begin('E', 'transaction');
  const entries: PlannedEntry[] = [];
  for (let index = 0; index < rawEntries.length; index++) {
    entries.push(planEntry(deps.model, ctx, rawEntries[index], index, true));
    if (slice.due()) await slice.pause();
  }
  for (const entry of entries) authorizeEntry(ctx, entry);
  assertPlaceholdersDefined(entries);
  const touched = new Map<string, number>();
  for (const entry of entries) {
    if (entry.request.method === 'GET' || entry.request.method === 'HEAD' || entry.request.method === 'POST') continue;
    const key = `${entry.request.resourceType}/${entry.request.id}`;
    const previous = touched.get(key);
    if (previous !== undefined) {
      throw badRequest(`${entryLabel(entry.index)} and ${entryLabel(previous)} both change ${key}; a transaction may touch a resource once`, entryLabel(entry.index));
    }
    touched.set(key, entry.index);
  }

  return deps.db.transaction(async (tx): Promise<BundleResult> => {
    // Conditional creates resolve first, so references to their fullUrl point at the match.
    for (const entry of entries) {
      if (entry.request.method !== 'POST' || entry.request.ifNoneExist === undefined) continue;
      const label = entryLabel(entry.index);
      const match = await findConditionalMatch(tx, { model: deps.model, searchLimits: deps.limits.search }, ctx, entry.request.resourceType, entry.request.ifNoneExist, {
        criteriaName: 'The If-None-Exist criteria', interaction: 'create', label, expression: `${label}.request.ifNoneExist`,
      });
      if (match !== undefined) {
        entry.id = match;
        entry.matchedExisting = await readCurrent(tx, entry.request.resourceType, match);
      }
    }
    const mapping = new Map<string, string>();
    for (const entry of entries) {
      if (!entry.fullUrl) continue;
      if (entry.request.method === 'POST') mapping.set(entry.fullUrl, `${entry.request.resourceType}/${entry.id}`);
      else if (entry.request.method === 'PUT' && entry.fullUrl.startsWith('urn:')) mapping.set(entry.fullUrl, `${entry.request.resourceType}/${entry.request.id}`);
    }
    for (const entry of entries) {
      if (entry.resource) rewriteReferences(entry.resource, mapping);
      if (slice.due()) await slice.pause();
    }
    const issues = await collectValidationIssues(entries, slice);
    if (issues.length > 0) throw invalidResource(issues);

    const order = entries
      .filter((e) => !e.matchedExisting)
      .sort((a, b) => METHOD_ORDER[a.request.method] - METHOD_ORDER[b.request.method] || a.index - b.index);
    const writes = order.map((entry) => ({ entry, op: toWriteOp(entry) })).filter((w): w is { entry: PlannedEntry; op: WriteOp } => !!w.op);
    const results = await applyWrites(tx, writes.map((w) => w.op), ctx, writeRulesOf(deps.limits));

    const responses: BundleEntryResult[] = new Array(entries.length);
    writes.forEach((w, i) => { responses[w.entry.index] = writeResponse(results[i], w.op.kind, ctx); });
    for (const entry of entries) {
      if (entry.matchedExisting) {
        responses[entry.index] = { ...versionResponse(entry.matchedExisting, '200 OK'), fullUrl: `${ctx.fhirBaseUrl}/${entry.request.resourceType}/${entry.id}` };
      } else if (entry.request.method === 'GET' || entry.request.method === 'HEAD') {
        responses[entry.index] = await readEntry(tx, entry, ctx);
      }
    }
    await deps.auditLog.writeInTransaction(tx, auditRecordOf(ctx, 200));
    return { type: 'transaction-response', entry: responses };
  }).then((result) => {
    ctx.audit.recorded = true;
    return result;
  });
}

async function readEntry(q: Parameters<typeof readCurrent>[0], entry: PlannedEntry, ctx: RequestContext): Promise<BundleEntryResult> {
  const { resourceType, id } = entry.request;
  const version = await readCurrent(q, resourceType, id!);
  const label = entryLabel(entry.index);
  ctx.audit.touch(`${resourceType}/${id}`);
  if (!version) throw notFound(`${label}: ${resourceType}/${id} is not known`, label);
  if (version.deleted) throw gone(`${label}: ${resourceType}/${id} has been deleted`, label);
  const result = versionResponse(version, '200 OK');
  result.fullUrl = `${ctx.fhirBaseUrl}/${resourceType}/${id}`;
  return result;
}

/**
 * A batch runs each entry as its own interaction, in its own transaction, audited on its own
 * (a write's AuditEvent inside its transaction, anything else buffered).
 */
async function processBatch(deps: BundleDeps, ctx: RequestContext, rawEntries: unknown[], slice: TimeSlice): Promise<BundleResult> {
  ctx.audit.begin('E', 'batch');
  const responses: BundleEntryResult[] = [];
  for (let index = 0; index < rawEntries.length; index++) {
    if (slice.due()) await slice.pause();
    const entryCtx: RequestContext = { ...ctx, audit: new RequestAudit() };
    try {
      responses.push(await processBatchEntry(deps, entryCtx, rawEntries[index], index));
      if (!entryCtx.audit.recorded) deps.auditLog.enqueue(auditRecordOf(entryCtx, 200));
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      responses.push({ response: { status: `${err.status} ${statusText(err.status)}`, outcome: err.outcome } });
      deps.auditLog.enqueue(auditRecordOf(entryCtx, err.status, err.message));
    }
  }
  ctx.audit.recorded = true;
  return { type: 'batch-response', entry: responses };
}

async function processBatchEntry(deps: BundleDeps, ctx: RequestContext, raw: unknown, index: number): Promise<BundleEntryResult> {
  const entry = planEntry(deps.model, ctx, raw, index, false);
  const { request } = entry;
  const { interactions } = deps;
  switch (request.method) {
    case 'GET':
    case 'HEAD': {
      const version = request.versionId
        ? await interactions.vread(ctx, request.resourceType, request.id!, request.versionId)
        : await interactions.read(ctx, request.resourceType, request.id!);
      return { ...versionResponse(version, '200 OK'), fullUrl: `${ctx.fhirBaseUrl}/${request.resourceType}/${request.id}` };
    }
    case 'POST': {
      const result = await interactions.create(ctx, request.resourceType, entry.resource, { ifNoneExist: request.ifNoneExist });
      return writeResponse(result, 'create', ctx);
    }
    case 'PUT':
      return writeResponse(await interactions.update(ctx, request.resourceType, request.id!, entry.resource, { ifMatch: request.ifMatch }), 'update', ctx);
    case 'PATCH':
      return writeResponse(await interactions.patch(ctx, request.resourceType, request.id!, patchFromEntry(entry, entryLabel(index)), { ifMatch: request.ifMatch }), 'patch', ctx);
    case 'DELETE':
      return writeResponse(await interactions.delete(ctx, request.resourceType, request.id!, { ifMatch: request.ifMatch }), 'delete', ctx);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}
