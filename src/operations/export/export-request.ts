/**
 * A Bulk Data kick-off's parameters, checked before anything is stored
 * (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters): `_outputFormat` (the three
 * NDJSON names), `_type` (comma-separated, repeatable: known types, in the Patient compartment for
 * Patient- and Group-level exports, each readable by the token), `_since` (an instant) and
 * `_typeFilter` (`Type?search`, criteria only, on an exported type the token may search). Without
 * `_type` every type the token may read is exported (AuditEvent only when named) and the others
 * are reported in the manifest's `error` file.
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import { badRequest, forbidden } from '../../fhir/outcomes.ts';
import type { SearchLimits } from '../../config.ts';
import { parseSearch } from '../../search/parse-search.ts';
import type { SearchCriterion } from '../../search/search-request.ts';
import { authorize, isAllowed } from '../../service/authorize.ts';
import { authorizeCriteria } from '../../service/search-authorization.ts';
import type { RequestContext } from '../../service/request-context.ts';
import type { ExportLevel } from '../../store/export-repository.ts';
import type { OperationParams } from '../operation-parameters.ts';

/** The `_outputFormat` values that mean NDJSON (the IG's three names). */
export const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/** Types not exported unless `_type` names them: the server's own audit trail. */
const NAMED_ONLY = new Set(['AuditEvent']);

/** Search parameters that shape a result rather than select resources: not allowed in `_typeFilter`. */
const RESULT_PARAMS = new Set([
  '_count', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_cursor', '_offset', '_format', '_pretty', '_contained', '_containedType',
]);

/** At most this many `_typeFilter` queries in one kick-off. */
const MAX_TYPE_FILTERS = 100;

/** What a kick-off asks for, checked. */
export interface ExportPlan {
  types: string[];
  typeFilters: Record<string, string[]>;
  since?: Date;
  leftOut: string[];
}

/** The parameters of `type` that put it in a patient's compartment (`self` for Patient), or none. */
export function patientCompartmentParams(model: FhirModel, type: string): readonly string[] {
  return type === 'Patient' ? ['self'] : model.getCompartmentParams('Patient', type);
}

/** The types an export at `level` may contain. */
function typesOfLevel(model: FhirModel, level: ExportLevel): string[] {
  return level === 'system' ? [...model.resourceTypes] : model.resourceTypes.filter((t) => patientCompartmentParams(model, t).length > 0);
}

/** `_type` values (comma-separated, repeatable) as types, each known, of the level, and readable. */
function namedTypes(model: FhirModel, ctx: RequestContext, level: ExportLevel, values: string[]): string[] {
  const ofLevel = new Set(typesOfLevel(model, level));
  const types = [...new Set(values.flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean))];
  if (types.length === 0) throw badRequest('_type names no resource type', '_type');
  for (const type of types) {
    if (!model.isResourceType(type)) throw badRequest(`_type: unknown resource type "${type.slice(0, 64)}"`, '_type');
    if (!ofLevel.has(type)) throw badRequest(`_type: ${type} is not in the Patient compartment, so a ${level}-level export cannot contain it`, '_type');
  }
  for (const type of types) authorize(ctx, type, 'r');
  return types;
}

/** One `_typeFilter` (`Observation?status=final&code=…`) as its type and criteria, authorised and bounded like a search. */
export function parseTypeFilter(model: FhirModel, limits: SearchLimits, value: string): { type: string; query: string; criteria: SearchCriterion[] } {
  const question = value.indexOf('?');
  if (question <= 0) throw badRequest(`_typeFilter "${value.slice(0, 100)}" must be Type?search`, '_typeFilter');
  const type = value.slice(0, question);
  const query = value.slice(question + 1);
  if (!model.isResourceType(type)) throw badRequest(`_typeFilter: unknown resource type "${type.slice(0, 64)}"`, '_typeFilter');
  const params = [...new URLSearchParams(query)];
  if (params.length === 0) throw badRequest(`_typeFilter "${value.slice(0, 100)}" has no criteria`, '_typeFilter');
  for (const [name] of params) {
    if (RESULT_PARAMS.has(name.split(':')[0])) throw badRequest(`_typeFilter: ${name.slice(0, 64)} is not a criterion`, '_typeFilter');
  }
  const request = parseSearch(model, type, params, { strict: true, defaultCount: 1, maxCount: 1, limits });
  return { type, query, criteria: request.criteria };
}

/** The `_typeFilter`s by type, each on an exported type and searchable by the token. */
function typeFilters(model: FhirModel, ctx: RequestContext, limits: SearchLimits, values: string[], types: string[]): Record<string, string[]> {
  if (values.length > MAX_TYPE_FILTERS) throw badRequest(`At most ${MAX_TYPE_FILTERS} _typeFilter values may be given`, '_typeFilter');
  const filters: Record<string, string[]> = {};
  for (const value of values) {
    const { type, query, criteria } = parseTypeFilter(model, limits, value);
    if (!types.includes(type)) throw badRequest(`_typeFilter: ${type} is not among the exported types`, '_typeFilter');
    authorize(ctx, type, 's');
    authorizeCriteria(ctx, criteria);
    (filters[type] ??= []).push(query);
  }
  return filters;
}

/** Checks a kick-off's parameters for `level` and the caller's scopes: 400, 403, or the plan. */
export function planExport(model: FhirModel, ctx: RequestContext, limits: SearchLimits, level: ExportLevel, params: OperationParams): ExportPlan {
  const format = params.string('_outputFormat');
  if (format !== undefined && !NDJSON_FORMATS.has(format)) {
    throw badRequest(`_outputFormat "${format.slice(0, 64)}" is not supported: use application/fhir+ndjson, application/ndjson or ndjson`, '_outputFormat');
  }
  const sinceText = params.string('_since');
  const since = sinceText === undefined ? undefined : new Date(sinceText);
  let types: string[];
  let leftOut: string[] = [];
  if (params.has('_type')) {
    types = namedTypes(model, ctx, level, params.strings('_type'));
  } else {
    const candidates = typesOfLevel(model, level).filter((t) => !NAMED_ONLY.has(t));
    types = candidates.filter((t) => isAllowed(ctx, t, 'r'));
    leftOut = candidates.filter((t) => !types.includes(t));
    if (types.length === 0) throw forbidden("The access token's scope does not allow reading any type this export could contain");
  }
  return { types, typeFilters: typeFilters(model, ctx, limits, params.strings('_typeFilter'), types), since, leftOut };
}
