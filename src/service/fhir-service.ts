/**
 * The core FHIR service: every facade (REST, GraphQL, Bundle entries; WebSocket and operations
 * later) calls these methods, so validation, versioning, storage and change events behave the
 * same on every path. Each method opens the same way (src/service/interaction-start.ts: audit,
 * type 404, scope 403, id 400), then checks its parameters and body, then touches the store. Each
 * write runs in one database transaction that also appends its change event.
 * https://hl7.org/fhir/R4/http.html
 */
import { randomUUID } from 'node:crypto';
import { badRequest, gone, notFound, type OutcomeIssue } from '../fhir/outcomes.ts';
import { loadFhirModel, type FhirModel } from '../fhir/fhir-model.ts';
import { validateResourceInSlices } from '../fhir/validate-resource.ts';
import { assertBundleBounds, assertResourceBounds } from '../fhir/assert-resource-bounds.ts';
import { TimeSlice } from '../fhir/time-slice.ts';
import { parseSearch } from '../search/parse-search.ts';
import { parseReadShape, shapeResource, type ResourceShape } from '../search/shape-resource.ts';
import type { SearchRequest } from '../search/search-request.ts';
import type { Database } from '../store/database.ts';
import { readCurrent, readCurrentMany, readVersion, type StoredVersion } from '../store/resource-repository.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { readAuditVersions } from './audit/audit-projection.ts';
import { limitToAuditTable } from './audit/audit-search.ts';
import { authorize } from './authorize.ts';
import type { BundleResult } from './bundle-result.ts';
import { findConditionalMatch, type ConditionalSubject } from './conditional-match.ts';
import { parseHistoryRequest } from './history-request.ts';
import { readableHistoryTypes, runHistory } from './history-service.ts';
import { parseIfMatch } from './if-match.ts';
import { assertId, assertResourceType, ID_PATTERN, startInteraction } from './interaction-start.ts';
import { auditRecordOf, type RequestContext } from './request-context.ts';
import { assertBodyType, readBody, type BodySource } from './resource-content.ts';
import { runReverseSearch, runSearch, type SearchDeps } from './search-service.ts';
import { isProjectable, type SearchOptions } from './search-projection.ts';
import { DEFAULT_MAX_INLINE_BINARY_BYTES, DEFAULT_SERVICE_LIMITS, type ServiceLimits } from './service-limits.ts';
import { BinaryService } from './binary/binary-service.ts';
import { authorizeDeliveryLog, DELIVERY_LOG_FILTER, isDeliveryLogSearch } from './subscription/delivery-log-access.ts';
import { processBundle, type BundleDeps } from './transaction-bundle.ts';
import { isUnlockedWrite, writeUnlocked } from './unlocked-write.ts';
import { applyWrites, assertValidInSlices, writeRulesOf, type WriteOp, type WriteOptions, type WriteResult, type WriteRules } from './write-ops.ts';

export { ID_PATTERN };
export type { ServiceLimits };

/** What a create did; a conditional create may find the resource instead of writing it. */
export interface ConditionalCreateResult extends WriteResult {
  /** True when `If-None-Exist` matched an existing resource and nothing was written. */
  matchedExisting: boolean;
}

/** The raw `_summary` and `_elements` values of a read or vread. */
export interface ReadShapeParams {
  summary?: string;
  elements?: string;
}

/** `If-Match` as a version number, or the header's text (parsed once the interaction opened). */
export interface IfMatchOption {
  ifMatch?: number | string;
}

function versionOf(ifMatch: number | string | undefined): number | undefined {
  return typeof ifMatch === 'string' ? parseIfMatch(ifMatch) : ifMatch;
}

/** The core service over one database. */
export class FhirService {
  readonly model: FhirModel;

  /** Binary content: raw uploads, and reads whose bytes the facade streams (binary/binary-service.ts). */
  readonly binary: BinaryService;

  constructor(readonly db: Database, readonly auditLog: AuditLog, readonly limits: ServiceLimits = DEFAULT_SERVICE_LIMITS) {
    this.model = loadFhirModel();
    this.binary = new BinaryService({
      db, auditLog, model: this.model, writeRules: this.writeRules,
      maxInlineBytes: limits.maxInlineBinaryBytes ?? DEFAULT_MAX_INLINE_BINARY_BYTES,
      read: async (ctx, id, versionId, shape) => ({
        version: versionId === undefined ? await this.read(ctx, 'Binary', id, shape) : await this.vread(ctx, 'Binary', id, versionId, shape),
        shape: parseReadShape(shape, this.limits.search.maxValues),
      }),
    });
  }

  /** The rules every write is checked by (resource bounds, Subscription channels and criteria). */
  get writeRules(): WriteRules {
    return writeRulesOf(this.limits);
  }

  private get searchDeps(): SearchDeps {
    return { db: this.db, model: this.model, maxIncluded: this.limits.search.maxIncluded };
  }

  /** Throws 404 unless `resourceType` is a concrete R4 resource type. */
  assertResourceType(resourceType: string): void {
    assertResourceType(this.model, resourceType);
  }

  /** Throws 400 unless `id` is a valid FHIR id. */
  assertId(id: string, what = 'id'): void {
    assertId(id, what);
  }

  /**
   * Reads the current version; 404 when it never existed, 410 when it is deleted. `shape` takes
   * the query's `_summary` and `_elements`, applied as search applies them (`SUBSETTED` tag).
   */
  async read(ctx: RequestContext, resourceType: string, id: string, shape: ReadShapeParams = {}): Promise<StoredVersion> {
    startInteraction(ctx, this.model, { action: 'R', interaction: 'read', types: [resourceType], permissions: [[resourceType, 'r']], id });
    const wanted = parseReadShape(shape, this.limits.search.maxValues);
    ctx.audit.touch(`${resourceType}/${id}`);
    const version = resourceType === 'AuditEvent' ? (await readAuditVersions(this.db, [id])).get(id) : await readCurrent(this.db, resourceType, id);
    if (!version) throw notFound(`${resourceType}/${id} is not known`);
    if (version.deleted) throw gone(`${resourceType}/${id} has been deleted`);
    return this.shaped(version, wanted);
  }

  /** Reads one version (vread); a deleted version answers 410. `shape` as for {@link read}. */
  async vread(ctx: RequestContext, resourceType: string, id: string, versionId: string, shape: ReadShapeParams = {}): Promise<StoredVersion> {
    startInteraction(ctx, this.model, { action: 'R', interaction: 'vread', types: [resourceType], permissions: [[resourceType, 'r']], id });
    const wanted = parseReadShape(shape, this.limits.search.maxValues);
    ctx.audit.touch(`${resourceType}/${id}`);
    if (!/^[1-9][0-9]{0,8}$/.test(versionId)) throw notFound(`${resourceType}/${id} has no version "${versionId.slice(0, 40)}"`);
    const version = resourceType === 'AuditEvent'
      ? (versionId === '1' ? (await readAuditVersions(this.db, [id])).get(id) : undefined)
      : await readVersion(this.db, resourceType, id, Number(versionId));
    if (!version) throw notFound(`${resourceType}/${id} has no version ${versionId}`);
    if (version.deleted) throw gone(`${resourceType}/${id} version ${versionId} is a deletion`);
    return this.shaped(version, wanted);
  }

  /** The version with its content cut to `shape` (unchanged when it asks for nothing). */
  private shaped(version: StoredVersion, shape: ResourceShape): StoredVersion {
    if (version.content === null || (!shape.summary && !shape.elements)) return version;
    return { ...version, content: shapeResource(version.content, this.model, shape.summary, shape.elements) };
  }

  /**
   * Reads current versions by key, for the GraphQL loaders; `elements` cuts each content down to
   * those top-level elements (what a query selects). Each type must be readable by the caller;
   * deleted and unknown resources are absent from the result.
   */
  async readMany(ctx: RequestContext, keys: { resourceType: string; id: string }[], elements?: readonly string[]): Promise<Map<string, StoredVersion>> {
    for (const type of new Set(keys.map((k) => k.resourceType))) authorize(ctx, type, 'r');
    const valid = keys.filter((k) => ID_PATTERN.test(k.id) && this.model.isResourceType(k.resourceType) && k.resourceType !== 'AuditEvent');
    const found = valid.length ? await readCurrentMany(this.db, valid, elements) : new Map<string, StoredVersion>();
    // AuditEvents are rows of the audit trail (audit/audit-projection.ts).
    const auditIds = keys.filter((k) => k.resourceType === 'AuditEvent' && ID_PATTERN.test(k.id)).map((k) => k.id);
    if (auditIds.length > 0) for (const [id, version] of await readAuditVersions(this.db, auditIds)) found.set(`AuditEvent/${id}`, version);
    for (const [key, version] of found) {
      if (version.deleted) found.delete(key);
      else ctx.audit.touch(key);
    }
    return found;
  }

  /**
   * Creates a resource with a server-assigned id. With `ifNoneExist` (conditional create) it
   * returns the one existing match instead, and fails with 412 when several match.
   */
  async create(ctx: RequestContext, resourceType: string, body: BodySource, options: { ifNoneExist?: string } = {}): Promise<ConditionalCreateResult> {
    const { ifNoneExist } = options;
    startInteraction(ctx, this.model, {
      action: 'C', interaction: 'create', types: [resourceType],
      permissions: ifNoneExist === undefined ? [[resourceType, 'c']] : [[resourceType, 'c'], [resourceType, 's']],
    });
    const resource = readBody(body);
    assertBodyType(resource, resourceType);
    await assertValidInSlices(resource, resourceType, this.limits.resource);
    const result = await this.db.transaction(async (tx): Promise<ConditionalCreateResult> => {
      if (ifNoneExist !== undefined) {
        const match = await this.findConditionalMatch(tx, ctx, resourceType, ifNoneExist, { criteriaName: 'The If-None-Exist criteria', interaction: 'create' });
        const version = match === undefined ? undefined : await readCurrent(tx, resourceType, match);
        if (version) {
          ctx.audit.touch(`${resourceType}/${version.id}`);
          return { version, created: false, changed: false, matchedExisting: true };
        }
      }
      // Without If-None-Exist this is the transaction's one statement (no BEGIN/COMMIT, write-ops.ts).
      const [written] = await applyWrites(tx, [{ kind: 'create', resourceType, id: randomUUID(), resource }], ctx, this.writeRules, {
        audit: () => auditRecordOf(ctx, 201), last: true,
      });
      return { ...written, matchedExisting: false };
    });
    if (result.changed) ctx.audit.recorded = true;
    return result;
  }

  /** Updates (or creates, with a client-chosen id) a resource; `ifMatch` guards against lost updates. */
  async update(ctx: RequestContext, resourceType: string, id: string, body: BodySource, options: IfMatchOption = {}): Promise<WriteResult> {
    startInteraction(ctx, this.model, { action: 'U', interaction: 'update', types: [resourceType], permissions: [[resourceType, 'u']], id });
    const ifMatch = versionOf(options.ifMatch);
    const resource = readBody(body);
    assertBodyType(resource, resourceType);
    if (resource.id === undefined) throw badRequest('An update must carry the resource id in the body', `${resourceType}.id`);
    if (resource.id !== id) throw badRequest(`The body's id "${String(resource.id).slice(0, 80)}" does not match the URL's "${id}"`, `${resourceType}.id`);
    await assertValidInSlices(resource, resourceType, this.limits.resource);
    return this.write(ctx, { kind: 'update', resourceType, id, resource, ifMatch });
  }

  /**
   * Conditional update (`PUT /fhir/Patient?identifier=…`): no match creates (with the body's id
   * if it has one), one match updates it, several answer 412.
   * https://hl7.org/fhir/R4/http.html#cond-update
   */
  async conditionalUpdate(ctx: RequestContext, resourceType: string, criteria: string, body: BodySource, options: IfMatchOption = {}): Promise<WriteResult> {
    startInteraction(ctx, this.model, {
      action: 'U', interaction: 'update', types: [resourceType], permissions: [[resourceType, 'u'], [resourceType, 's']],
    });
    if (criteria.trim() === '') {
      throw badRequest(`A conditional update needs search criteria (PUT ${resourceType}?identifier=…); to update one resource by id, PUT ${resourceType}/{id}`);
    }
    const ifMatch = versionOf(options.ifMatch);
    const resource = readBody(body);
    assertBodyType(resource, resourceType);
    if (resource.id !== undefined) assertId(String(resource.id), 'id in the body');
    await assertValidInSlices(resource, resourceType, this.limits.resource);
    const [result] = await this.db.transaction(async (tx) => {
      const match = await this.findConditionalMatch(tx, ctx, resourceType, criteria, { criteriaName: 'The criteria', interaction: 'update' });
      let op: WriteOp;
      if (match !== undefined) {
        if (resource.id !== undefined && resource.id !== match) throw badRequest(`The body's id does not match the resource the criteria found (${match})`, `${resourceType}.id`);
        op = { kind: 'update', resourceType, id: match, resource, ifMatch };
      } else {
        authorize(ctx, resourceType, 'c');
        op = resource.id === undefined
          ? { kind: 'create', resourceType, id: randomUUID(), resource }
          : { kind: 'update', resourceType, id: String(resource.id), resource, ifMatch };
      }
      return applyWrites(tx, [op], ctx, this.writeRules, { audit: ([result]) => auditRecordOf(ctx, result.created ? 201 : 200), last: true });
    });
    ctx.audit.recorded = true;
    return result;
  }

  /**
   * Conditional delete (`DELETE /fhir/Patient?identifier=…`): no match changes nothing, one
   * match is deleted, several answer 412. https://hl7.org/fhir/R4/http.html#3.1.0.7.1
   */
  async conditionalDelete(ctx: RequestContext, resourceType: string, criteria: string): Promise<WriteResult | undefined> {
    startInteraction(ctx, this.model, {
      action: 'D', interaction: 'delete', types: [resourceType], permissions: [[resourceType, 'd'], [resourceType, 's']],
    });
    const result = await this.db.transaction(async (tx) => {
      const match = await this.findConditionalMatch(tx, ctx, resourceType, criteria, { criteriaName: 'The criteria', interaction: 'delete' });
      if (match === undefined) return undefined;
      const [deleted] = await applyWrites(tx, [{ kind: 'delete', resourceType, id: match }], ctx, this.writeRules, {
        audit: () => auditRecordOf(ctx, 200), last: true,
      });
      return deleted;
    });
    if (result) ctx.audit.recorded = true;
    return result;
  }

  /** Applies a JSON Patch (RFC 6902) to the current version. */
  async patch(ctx: RequestContext, resourceType: string, id: string, patch: BodySource, options: IfMatchOption = {}): Promise<WriteResult> {
    startInteraction(ctx, this.model, { action: 'U', interaction: 'patch', types: [resourceType], permissions: [[resourceType, 'u']], id });
    const ifMatch = versionOf(options.ifMatch);
    return this.write(ctx, { kind: 'patch', resourceType, id, patch: readBody(patch), ifMatch });
  }

  /** Deletes a resource: a new version marked deleted. Deleting a deleted resource changes nothing. */
  async delete(ctx: RequestContext, resourceType: string, id: string, options: IfMatchOption = {}): Promise<WriteResult> {
    startInteraction(ctx, this.model, { action: 'D', interaction: 'delete', types: [resourceType], permissions: [[resourceType, 'd']], id });
    return this.write(ctx, { kind: 'delete', resourceType, id, ifMatch: versionOf(options.ifMatch) });
  }

  /**
   * History of one resource (`id`), one type, or (neither) every type the caller may search,
   * newest first; `params` are the query's `_count`, `_since`, `_at` and `_cursor`.
   */
  async history(ctx: RequestContext, target: { resourceType?: string; id?: string }, params: [string, string][]): Promise<BundleResult> {
    const { resourceType, id } = target;
    let resourceTypes: string[] | undefined;
    if (resourceType) {
      startInteraction(ctx, this.model, {
        action: 'R', interaction: id ? 'history-instance' : 'history-type', types: [resourceType], permissions: [[resourceType, id ? 'r' : 's']], id,
      });
    } else {
      startInteraction(ctx, this.model, { action: 'R', interaction: 'history-system' });
      resourceTypes = readableHistoryTypes(this.model, ctx);
    }
    const request = parseHistoryRequest(params, this.limits);
    return runHistory({ db: this.db, model: this.model }, ctx, { resourceType, id, resourceTypes }, request);
  }

  /**
   * Opens a `$validate` on `resourceType` (and instance `id`): 403 unless the caller may create or
   * update one. Facades call it before they read the body or the stored instance, so a caller
   * without the permission learns nothing about either.
   */
  authorizeValidate(ctx: RequestContext, resourceType: string, id?: string): void {
    startInteraction(ctx, this.model, { action: 'E', interaction: 'validate', types: [resourceType], permissions: [[resourceType, ['c', 'u']]], id });
  }

  /** Validates a resource without storing it (`$validate`), in time slices; returns the issues found. */
  async validate(ctx: RequestContext, resourceType: string, body: BodySource): Promise<OutcomeIssue[]> {
    this.authorizeValidate(ctx, resourceType);
    const resource = readBody(body);
    assertBodyType(resource, resourceType);
    const slice = new TimeSlice();
    if (resourceType === 'Bundle') await assertBundleBounds(resource, this.limits.resource, slice);
    else assertResourceBounds(resource, resourceType, this.limits.resource);
    return validateResourceInSlices(resource, resourceType, slice);
  }

  private parseSearch(resourceType: string | undefined, params: [string, string][], strict: boolean): SearchRequest {
    const request = parseSearch(this.model, resourceType, params, {
      strict, defaultCount: this.limits.defaultCount, maxCount: this.limits.maxCount, limits: this.limits.search,
    });
    // AuditEvents are searched in the audit trail's own table, by the parameters it answers.
    return resourceType === 'AuditEvent' ? limitToAuditTable(this.model, request, strict) : request;
  }

  /**
   * Searches `resourceType` (or, undefined, every type the caller may search, narrowed by
   * `_type`) with the query's parameters in order. `strict` refuses unknown parameters (400)
   * instead of ignoring and reporting them; `elements` cuts each match down to those elements
   * when nothing else reads them whole (`search-projection.ts`).
   */
  async search(ctx: RequestContext, resourceType: string | undefined, params: [string, string][], options: SearchOptions = {}): Promise<BundleResult> {
    // A client that may not read AuditEvents may still read its own Subscriptions' delivery logs.
    const deliveryLog = isDeliveryLogSearch(ctx, resourceType);
    startInteraction(ctx, this.model, resourceType
      ? { action: 'R', interaction: 'search-type', types: [resourceType], permissions: deliveryLog ? [] : [[resourceType, 's']] }
      : { action: 'R', interaction: 'search-system' });
    const request = this.parseSearch(resourceType, deliveryLog ? [...params, DELIVERY_LOG_FILTER] : params, options.strict ?? false);
    if (deliveryLog) await authorizeDeliveryLog(this.db, ctx, request);
    if (options.elements && isProjectable(request)) request.projection = options.elements;
    return runSearch(this.searchDeps, ctx, request, { deliveryLog });
  }

  /**
   * Reverse references for the graph: resources of `sourceType` referring to each of
   * `targetIds` (of `targetType`) through `referenceParam`, filtered by `params`, at most
   * `_count` (default 20) per target, in one statement.
   */
  async searchReverse(
    ctx: RequestContext, sourceType: string, referenceParam: string, targetType: string, targetIds: string[], params: [string, string][],
    elements?: readonly string[],
  ): Promise<Map<string, StoredVersion[]>> {
    assertResourceType(this.model, sourceType);
    authorize(ctx, sourceType, 's');
    const request = this.parseSearch(sourceType, params, true);
    const param = this.model.getSearchParam(sourceType, referenceParam);
    if (!param || param.type !== 'reference') throw badRequest(`${sourceType} has no reference parameter "${referenceParam}"`);
    return runReverseSearch(this.searchDeps, ctx, request, { referenceParam, targetType, targetIds }, elements);
  }

  /**
   * Compartment search (`GET /fhir/Patient/1/Observation?…`): a search of `resourceType` limited
   * to resources in the compartment of `compartmentType/id`, per the R4 CompartmentDefinitions.
   * https://hl7.org/fhir/R4/compartmentdefinition.html#search
   */
  async searchCompartment(
    ctx: RequestContext, compartmentType: string, id: string, resourceType: string, params: [string, string][], options: { strict?: boolean } = {},
  ): Promise<BundleResult> {
    startInteraction(ctx, this.model, {
      action: 'R', interaction: 'search-type', types: [compartmentType, resourceType], permissions: [[resourceType, 's']], id,
    });
    const members = this.model.getCompartmentParams(compartmentType, resourceType);
    if (members.length === 0) throw notFound(`${resourceType} is not in the ${compartmentType} compartment`);
    const request = this.parseSearch(resourceType, params, options.strict ?? false);
    request.compartment = { resourceType: compartmentType, id, params: [...members] };
    return runSearch(this.searchDeps, ctx, request);
  }

  /** Processes a `batch` or `transaction` Bundle posted to the base URL. */
  async processBundle(ctx: RequestContext, body: BodySource): Promise<BundleResult> {
    // The Bundle's type names the interaction (transaction or batch) once the body is read.
    startInteraction(ctx, this.model, { action: 'E', interaction: 'transaction' });
    const deps: BundleDeps = { db: this.db, auditLog: this.auditLog, model: this.model, limits: this.limits, interactions: this };
    return processBundle(deps, ctx, readBody(body));
  }

  /**
   * Runs one write in its own transaction, with its AuditEvent when it changed something; an
   * update or delete of an ordinary resource first without the lock round (unlocked-write.ts).
   */
  private async write(ctx: RequestContext, op: WriteOp): Promise<WriteResult> {
    const options: WriteOptions = {
      audit: ([planned]) => (planned.changed ? auditRecordOf(ctx, planned.created ? 201 : 200) : undefined),
      last: true,
    };
    const unlocked = isUnlockedWrite(op) ? await writeUnlocked(this.db, op, ctx, this.writeRules, options) : undefined;
    const [result] = unlocked ?? await this.db.transaction((tx) => applyWrites(tx, [op], ctx, this.writeRules, options));
    if (result.changed) ctx.audit.recorded = true;
    return result;
  }

  private findConditionalMatch(tx: Parameters<typeof findConditionalMatch>[0], ctx: RequestContext, resourceType: string, criteria: string, subject: ConditionalSubject) {
    return findConditionalMatch(tx, { model: this.model, searchLimits: this.limits.search }, ctx, resourceType, criteria, subject);
  }
}
