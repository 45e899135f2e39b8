/**
 * The core FHIR service: every facade (REST now; GraphQL, WebSocket, operations later) calls
 * these methods, so validation, versioning, storage and change events behave the same on every
 * path. Each write runs in one database transaction that also appends its change event.
 * https://hl7.org/fhir/R4/http.html
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_LIMITS, type ResourceLimits, type SearchLimits } from '../config.ts';
import { badRequest, gone, notFound, preconditionFailed, type OutcomeIssue } from '../fhir/outcomes.ts';
import { loadFhirModel, type FhirModel } from '../fhir/fhir-model.ts';
import { validateResourceInSlices } from '../fhir/validate-resource.ts';
import { assertBundleBounds, assertResourceBounds } from '../fhir/assert-resource-bounds.ts';
import { TimeSlice } from '../fhir/time-slice.ts';
import type { Database, Queryable } from '../store/database.ts';
import {
  countVersions, readCurrent, readCurrentMany, readHistory, readVersion,
  type HistoryQuery, type HistoryVersion, type StoredVersion,
} from '../store/resource-repository.ts';
import type { RequestContext } from './request-context.ts';
import { isJsonObject, type FhirResource } from './resource-content.ts';
import { applyWrites, assertValidInSlices, type WriteOp, type WriteResult } from './write-ops.ts';
import { processBundle } from './transaction-bundle.ts';
import { parseSearch } from '../search/parse-search.ts';
import { readSearchPairs } from '../search/search-query-text.ts';
import { authorizeCriteria, runReverseSearch, runSearch } from './search-service.ts';
import { buildSearchQuery } from '../search/sql/build-search-query.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { authorize, isAllowed } from './authorize.ts';
import { auditRecordOf } from './request-context.ts';
import type { BundleResult } from './bundle-result.ts';

/** FHIR `id` (https://hl7.org/fhir/R4/datatypes.html#id). */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export interface ConditionalCreateResult extends WriteResult {
  /** True when `If-None-Exist` matched an existing resource and nothing was written. */
  matchedExisting: boolean;
}

/** Page sizes and the cost bounds of searches and written resources (`Config`). */
export interface ServiceLimits {
  defaultCount: number;
  maxCount: number;
  search: SearchLimits;
  resource: ResourceLimits;
}

/** The core service over one database. */
export class FhirService {
  readonly model: FhirModel;

  constructor(
    readonly db: Database,
    readonly auditLog: AuditLog,
    readonly limits: ServiceLimits = { defaultCount: 20, maxCount: 1000, search: DEFAULT_LIMITS.search, resource: DEFAULT_LIMITS.resource },
  ) {
    this.model = loadFhirModel();
  }

  /** Throws 404 unless `resourceType` is a concrete R4 resource type. */
  assertResourceType(resourceType: string): void {
    if (!this.model.isResourceType(resourceType)) throw notFound(`Unknown resource type "${resourceType}"`);
  }

  /** Throws 400 unless `id` is a valid FHIR id. */
  assertId(id: string, what = 'id'): void {
    if (!ID_PATTERN.test(id)) throw badRequest(`Invalid ${what} "${id.slice(0, 80)}": expected 1-64 characters of A-Z a-z 0-9 - .`);
  }

  /** Checks that a request body is a resource of the expected type. */
  assertBodyType(body: unknown, resourceType: string): asserts body is FhirResource {
    if (!isJsonObject(body)) throw badRequest('The body must be a JSON object holding a FHIR resource');
    if (body.resourceType !== resourceType) {
      throw badRequest(`The body's resourceType "${String(body.resourceType)}" does not match the URL's "${resourceType}"`, 'resourceType');
    }
  }

  /** Reads the current version; 404 when it never existed, 410 when it is deleted. */
  async read(ctx: RequestContext, resourceType: string, id: string): Promise<StoredVersion> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('R', 'read');
    authorize(ctx, resourceType, 'r');
    this.assertId(id);
    ctx.audit.touch(`${resourceType}/${id}`);
    const version = await readCurrent(this.db, resourceType, id);
    if (!version) throw notFound(`${resourceType}/${id} is not known`);
    if (version.deleted) throw gone(`${resourceType}/${id} has been deleted`);
    return version;
  }

  /**
   * Reads many current versions in one statement (the graph's reference loader). Each type must
   * be readable by the caller; deleted and unknown resources are absent from the result.
   */
  /**
   * Reads current versions by key, for the GraphQL loaders; `elements` cuts each content down to
   * those top-level elements (what a query selects).
   */
  async readMany(ctx: RequestContext, keys: { resourceType: string; id: string }[], elements?: readonly string[]): Promise<Map<string, StoredVersion>> {
    for (const type of new Set(keys.map((k) => k.resourceType))) authorize(ctx, type, 'r');
    const valid = keys.filter((k) => ID_PATTERN.test(k.id) && this.model.isResourceType(k.resourceType));
    const found = valid.length ? await readCurrentMany(this.db, valid, elements) : new Map<string, StoredVersion>();
    for (const [key, version] of found) {
      if (version.deleted) found.delete(key);
      else ctx.audit.touch(key);
    }
    return found;
  }

  /** Reads one version (vread); a deleted version answers 410. */
  async vread(ctx: RequestContext, resourceType: string, id: string, versionId: string): Promise<StoredVersion> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('R', 'vread');
    authorize(ctx, resourceType, 'r');
    this.assertId(id);
    ctx.audit.touch(`${resourceType}/${id}`);
    if (!/^[1-9][0-9]{0,8}$/.test(versionId)) throw notFound(`${resourceType}/${id} has no version "${versionId.slice(0, 40)}"`);
    const version = await readVersion(this.db, resourceType, id, Number(versionId));
    if (!version) throw notFound(`${resourceType}/${id} has no version ${versionId}`);
    if (version.deleted) throw gone(`${resourceType}/${id} version ${versionId} is a deletion`);
    return version;
  }

  /**
   * Creates a resource with a server-assigned id. With `ifNoneExist` (conditional create) it
   * returns the one existing match instead, and fails with 412 when several match.
   */
  async create(ctx: RequestContext, resourceType: string, body: unknown, options: { ifNoneExist?: string } = {}): Promise<ConditionalCreateResult> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('C', 'create');
    authorize(ctx, resourceType, 'c');
    this.assertBodyType(body, resourceType);
    await assertValidInSlices(body, resourceType, this.limits.resource);
    const result = await this.db.transaction(async (tx): Promise<ConditionalCreateResult> => {
      if (options.ifNoneExist !== undefined) {
        authorize(ctx, resourceType, 's');
        const matches = await this.findConditionalMatches(tx, ctx, resourceType, options.ifNoneExist);
        if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched ${matches.length} resources`);
        if (matches.length === 1) {
          const version = await readCurrent(tx, resourceType, matches[0]);
          if (version) {
            ctx.audit.touch(`${resourceType}/${version.id}`);
            return { version, created: false, changed: false, matchedExisting: true };
          }
        }
      }
      const [written] = await applyWrites(tx, [{ kind: 'create', resourceType, id: randomUUID(), resource: body }], ctx, this.limits.resource);
      await this.auditLog.writeInTransaction(tx, auditRecordOf(ctx, 201));
      return { ...written, matchedExisting: false };
    });
    if (result.changed) ctx.audit.recorded = true;
    return result;
  }

  /** Updates (or creates, with a client-chosen id) a resource; `ifMatch` guards against lost updates. */
  async update(ctx: RequestContext, resourceType: string, id: string, body: unknown, options: { ifMatch?: number } = {}): Promise<WriteResult> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('U', 'update');
    authorize(ctx, resourceType, 'u');
    this.assertId(id);
    this.assertBodyType(body, resourceType);
    if (body.id === undefined) throw badRequest('An update must carry the resource id in the body', `${resourceType}.id`);
    if (body.id !== id) throw badRequest(`The body's id "${String(body.id).slice(0, 80)}" does not match the URL's "${id}"`, `${resourceType}.id`);
    await assertValidInSlices(body, resourceType, this.limits.resource);
    return this.write(ctx, { kind: 'update', resourceType, id, resource: body, ifMatch: options.ifMatch });
  }

  /**
   * Conditional update (`PUT /fhir/Patient?identifier=…`): no match creates (with the body's id
   * if it has one), one match updates it, several answer 412.
   * https://hl7.org/fhir/R4/http.html#cond-update
   */
  async conditionalUpdate(ctx: RequestContext, resourceType: string, criteria: string, body: unknown, options: { ifMatch?: number } = {}): Promise<WriteResult> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('U', 'update');
    authorize(ctx, resourceType, 'u');
    authorize(ctx, resourceType, 's');
    this.assertBodyType(body, resourceType);
    if (body.id !== undefined) this.assertId(String(body.id), 'id in the body');
    await assertValidInSlices(body, resourceType, this.limits.resource);
    const [result] = await this.db.transaction(async (tx) => {
      const matches = await this.findConditionalMatches(tx, ctx, resourceType, criteria);
      if (matches.length > 1) throw preconditionFailed(`The criteria match ${matches.length} resources; a conditional update needs at most one`);
      let op: WriteOp;
      if (matches.length === 1) {
        if (body.id !== undefined && body.id !== matches[0]) throw badRequest(`The body's id does not match the resource the criteria found (${matches[0]})`, `${resourceType}.id`);
        op = { kind: 'update', resourceType, id: matches[0], resource: body, ifMatch: options.ifMatch };
      } else {
        authorize(ctx, resourceType, 'c');
        op = body.id === undefined
          ? { kind: 'create', resourceType, id: randomUUID(), resource: body }
          : { kind: 'update', resourceType, id: String(body.id), resource: body, ifMatch: options.ifMatch };
      }
      const results = await applyWrites(tx, [op], ctx, this.limits.resource);
      await this.auditLog.writeInTransaction(tx, auditRecordOf(ctx, results[0].created ? 201 : 200));
      return results;
    });
    ctx.audit.recorded = true;
    return result;
  }

  /**
   * Conditional delete (`DELETE /fhir/Patient?identifier=…`): no match changes nothing, one
   * match is deleted, several answer 412. https://hl7.org/fhir/R4/http.html#3.1.0.7.1
   */
  async conditionalDelete(ctx: RequestContext, resourceType: string, criteria: string): Promise<WriteResult | undefined> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('D', 'delete');
    authorize(ctx, resourceType, 'd');
    authorize(ctx, resourceType, 's');
    const result = await this.db.transaction(async (tx) => {
      const matches = await this.findConditionalMatches(tx, ctx, resourceType, criteria);
      if (matches.length > 1) throw preconditionFailed(`The criteria match ${matches.length} resources; a conditional delete needs at most one`);
      if (matches.length === 0) return undefined;
      const [deleted] = await applyWrites(tx, [{ kind: 'delete', resourceType, id: matches[0] }], ctx, this.limits.resource);
      await this.auditLog.writeInTransaction(tx, auditRecordOf(ctx, 200));
      return deleted;
    });
    if (result) ctx.audit.recorded = true;
    return result;
  }

  /** Applies a JSON Patch (RFC 6902) to the current version. */
  async patch(ctx: RequestContext, resourceType: string, id: string, patch: unknown, options: { ifMatch?: number } = {}): Promise<WriteResult> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('U', 'patch');
    authorize(ctx, resourceType, 'u');
    this.assertId(id);
    return this.write(ctx, { kind: 'patch', resourceType, id, patch, ifMatch: options.ifMatch });
  }

  /** Deletes a resource: a new version marked deleted. Deleting a deleted resource changes nothing. */
  async delete(ctx: RequestContext, resourceType: string, id: string, options: { ifMatch?: number } = {}): Promise<WriteResult> {
    this.assertResourceType(resourceType);
    ctx.audit.begin('D', 'delete');
    authorize(ctx, resourceType, 'd');
    this.assertId(id);
    return this.write(ctx, { kind: 'delete', resourceType, id, ifMatch: options.ifMatch });
  }

  /** Pages through history at instance, type or system level, newest first. */
  async history(ctx: RequestContext, query: HistoryQuery): Promise<{ versions: HistoryVersion[]; total?: number }> {
    if (query.resourceType) {
      this.assertResourceType(query.resourceType);
      ctx.audit.begin('R', query.id ? 'history-instance' : 'history-type');
      authorize(ctx, query.resourceType, query.id ? 'r' : 's');
    } else {
      ctx.audit.begin('R', 'history-system');
      query = { ...query, resourceTypes: this.readableTypes(ctx) };
    }
    if (query.id) {
      ctx.audit.touch(`${query.resourceType}/${query.id}`);
      this.assertId(query.id);
      const current = await readCurrent(this.db, query.resourceType!, query.id);
      if (!current) throw notFound(`${query.resourceType}/${query.id} is not known`);
      const [versions, total] = await Promise.all([readHistory(this.db, query), countVersions(this.db, query.resourceType!, query.id)]);
      return { versions, total };
    }
    return { versions: await readHistory(this.db, query) };
  }

  /**
   * The types whose history a system-level request may list: `undefined` for every type, else
   * the types the scope names (AuditEvent only for admins). 403 when there are none.
   */
  private readableTypes(ctx: RequestContext): string[] | undefined {
    const scopes = ctx.auth.scopes;
    const types = scopes.permitsAll('s')
      ? (ctx.auth.admin ? undefined : this.model.resourceTypes.filter((t) => t !== 'AuditEvent'))
      : scopes.typesWith('s').filter((t) => isAllowed(ctx, t, 's'));
    if (types && types.length === 0) authorize(ctx, '*', 's');
    return types;
  }

  /**
   * Throws 403 unless the caller may `$validate` a `resourceType` (it may create or update one).
   * Facades call it before they read the body or the stored instance, so a caller without the
   * permission learns nothing about either.
   */
  authorizeValidate(ctx: RequestContext, resourceType: string): void {
    this.assertResourceType(resourceType);
    ctx.audit.begin('E', 'validate');
    if (!isAllowed(ctx, resourceType, 'c') && !isAllowed(ctx, resourceType, 'u')) authorize(ctx, resourceType, 'c');
  }

  /** Validates a resource without storing it (`$validate`), in time slices; returns the issues found. */
  async validate(ctx: RequestContext, resourceType: string, body: unknown): Promise<OutcomeIssue[]> {
    this.authorizeValidate(ctx, resourceType);
    this.assertBodyType(body, resourceType);
    const slice = new TimeSlice();
    if (resourceType === 'Bundle') await assertBundleBounds(body, this.limits.resource, slice);
    else assertResourceBounds(body, resourceType, this.limits.resource);
    return validateResourceInSlices(body, resourceType, slice);
  }

  /**
   * Searches `resourceType` (or, undefined, every type the caller may search, narrowed by
   * `_type`) with the query's parameters in order. `strict` refuses unknown parameters (400)
   * instead of ignoring and reporting them.
   */
  async search(ctx: RequestContext, resourceType: string | undefined, params: [string, string][], options: { strict?: boolean } = {}): Promise<BundleResult> {
    if (resourceType) this.assertResourceType(resourceType);
    const request = parseSearch(this.model, resourceType, params, {
      strict: options.strict ?? false, defaultCount: this.limits.defaultCount, maxCount: this.limits.maxCount, limits: this.limits.search,
    });
    return runSearch(this, ctx, request);
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
    this.assertResourceType(sourceType);
    const request = parseSearch(this.model, sourceType, params, {
      strict: true, defaultCount: this.limits.defaultCount, maxCount: this.limits.maxCount, limits: this.limits.search,
    });
    const param = this.model.getSearchParam(sourceType, referenceParam);
    if (!param || param.type !== 'reference') throw badRequest(`${sourceType} has no reference parameter "${referenceParam}"`);
    return runReverseSearch(this, ctx, request, { referenceParam, targetType, targetIds }, elements);
  }

  /**
   * Compartment search (`GET /fhir/Patient/1/Observation?…`): a search of `resourceType` limited
   * to resources in the compartment of `compartmentType/id`, per the R4 CompartmentDefinitions.
   * https://hl7.org/fhir/R4/compartmentdefinition.html#search
   */
  async searchCompartment(
    ctx: RequestContext, compartmentType: string, id: string, resourceType: string, params: [string, string][], options: { strict?: boolean } = {},
  ): Promise<BundleResult> {
    this.assertResourceType(compartmentType);
    this.assertResourceType(resourceType);
    this.assertId(id);
    const members = this.model.getCompartmentParams(compartmentType, resourceType);
    if (members.length === 0) throw notFound(`${resourceType} is not in the ${compartmentType} compartment`);
    const request = parseSearch(this.model, resourceType, params, {
      strict: options.strict ?? false, defaultCount: this.limits.defaultCount, maxCount: this.limits.maxCount, limits: this.limits.search,
    });
    request.compartment = { resourceType: compartmentType, id, params: [...members] };
    return runSearch(this, ctx, request);
  }

  /** Processes a `batch` or `transaction` Bundle posted to the base URL. */
  async processBundle(ctx: RequestContext, body: unknown): Promise<BundleResult> {
    return processBundle(this, ctx, body);
  }

  /** Runs one write in its own transaction. */
  async write(ctx: RequestContext, op: WriteOp): Promise<WriteResult> {
    const [result] = await this.db.transaction(async (tx) => {
      const results = await applyWrites(tx, [op], ctx, this.limits.resource);
      if (results[0].changed) {
        const status = results[0].created ? 201 : 200;
        await this.auditLog.writeInTransaction(tx, auditRecordOf(ctx, status));
      }
      return results;
    });
    if (result.changed) ctx.audit.recorded = true;
    return result;
  }

  /**
   * Finds (at most two of) the live resources matching conditional criteria, with the full search
   * engine in strict mode: an unknown or malformed parameter is a 400, never ignored, since
   * ignoring one would widen a conditional write. The lookup is serialised on a hash of the
   * criteria (DECISIONS.md §2), so two concurrent conditional writes see each other.
   * https://hl7.org/fhir/R4/http.html#ccreate
   */
  async findConditionalMatches(tx: Queryable, ctx: RequestContext, resourceType: string, criteria: string): Promise<string[]> {
    const query = criteria.replace(/^[A-Za-z]*\?/, '');
    const params = readSearchPairs([query], this.limits.search);
    if (params.length === 0) throw badRequest('Conditional criteria must name at least one search parameter');
    const request = parseSearch(this.model, resourceType, params, { strict: true, defaultCount: 2, maxCount: 2, limits: this.limits.search });
    if (request.criteria.length === 0 || request.include.length || request.revinclude.length) {
      throw badRequest('Conditional criteria take search parameters only');
    }
    request.count = 2;
    request.sort = [];
    authorizeCriteria(ctx, request.criteria);
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [`${resourceType}?${request.canonicalQuery}`]);
    const built = buildSearchQuery(request, [resourceType], this.model, ctx.fhirBaseUrl, undefined);
    return (await tx.query<{ id: string }>(built.sql, built.params)).map((r) => r.id);
  }
}
