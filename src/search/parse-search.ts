/**
 * Parses a FHIR search query into a {@link SearchRequest}: parameter names with modifiers,
 * chains (`subject:Patient.name`) and reverse chains (`_has:Observation:subject:code`), and the
 * result parameters. Unknown or malformed parameters are ignored and reported (lenient, the
 * default) or refused with 400 (`Prefer: handling=strict`). A search over the cost limits
 * ({@link SearchLimits}: parameters, criteria after chain and `_has` expansion, OR-ed values, sort
 * keys, includes) is refused with 400 under either handling, before any SQL is built.
 * https://hl7.org/fhir/R4/search.html#errors
 */
import { DEFAULT_LIMITS, type SearchLimits } from '../config.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { SearchParamDef } from '../fhir/model-types.ts';
import { badRequest, tooCostly, type OutcomeIssue } from '../fhir/outcomes.ts';
import type { IncludeSpec, SearchCriterion, SearchRequest, SortKey, TotalMode } from './search-request.ts';
import { isSummaryMode, parseElements } from './shape-resource.ts';
import { splitEscaped } from './search-values.ts';
import { tooManyParams } from './search-query-text.ts';

export interface ParseOptions {
  strict: boolean;
  defaultCount: number;
  maxCount: number;
  /** Cost bounds (default: {@link DEFAULT_LIMITS}). */
  limits?: SearchLimits;
}

/** Parameters that shape the result rather than select resources. */
const RESULT_PARAMS = new Set(['_offset', '_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_cursor', '_format', '_pretty', '_type']);
const UNSUPPORTED = new Set(['_text', '_content', '_list', '_query', '_filter', '_contained', '_containedType', '_score']);
const MAX_CHAIN = 3;

class Refusal extends Error {}

/** The criteria a search may still add: chains and `_has` spend it per target type as they expand. */
class CriteriaBudget {
  used = 0;
  constructor(readonly limits: SearchLimits) {}

  spend(name: string): void {
    if (++this.used > this.limits.maxCriteria) {
      throw tooCostly(`The search has more than ${this.limits.maxCriteria} criteria (chains and _has count once per target type)`, name);
    }
  }

  values(name: string, value: string): string[] {
    const values = splitEscaped(value, ',');
    if (values.length > this.limits.maxValues) throw tooCostly(`${name} has ${values.length} values; at most ${this.limits.maxValues} are allowed`, name);
    return values;
  }
}

/** Parses `params` (in order, repeats kept) for a search on `resourceType` (undefined: system). */
export function parseSearch(model: FhirModel, resourceType: string | undefined, params: [string, string][], options: ParseOptions): SearchRequest {
  const issues: OutcomeIssue[] = [];
  const refuse = (message: string, expression: string): void => {
    if (options.strict) throw badRequest(message, expression);
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `${message} (ignored)`, expression: [expression] });
  };
  const request: SearchRequest = {
    resourceType, criteria: [], count: options.defaultCount, sort: [], total: 'none', include: [], revinclude: [], issues, canonicalQuery: '',
  };
  const limits = options.limits ?? DEFAULT_LIMITS.search;
  if (params.length > limits.maxParams) throw tooManyParams(params.length, limits);
  const budget = new CriteriaBudget(limits);
  const canonical = new URLSearchParams();
  for (const [name, value] of params) {
    const spent = budget.used;
    try {
      const base = name.startsWith('_include:') || name.startsWith('_revinclude:') ? name.split(':')[0] : name;
      if (RESULT_PARAMS.has(base)) {
        parseResultParam(model, request, name, value, options, limits);
        if (name !== '_cursor' && name !== '_format' && name !== '_pretty') canonical.append(name, value);
        continue;
      }
      if (UNSUPPORTED.has(name.split(':')[0])) throw new Refusal(`Search parameter ${name} is not supported`);
      if (!resourceType) throw new Refusal(`Search parameter ${name} needs a resource type (search on a type, or _type with one type)`);
      request.criteria.push(parseCriterion(model, resourceType, name, value, 0, budget));
      canonical.append(name, value);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      budget.used = spent; // an ignored parameter costs nothing
      refuse(err.message, name);
    }
  }
  // `_count=0` asks for the count alone (https://hl7.org/fhir/R4/search.html#count).
  if (request.count === 0) request.summary = 'count';
  request.canonicalQuery = canonical.toString();
  return request;
}

function lookupParam(model: FhirModel, resourceType: string, code: string): SearchParamDef {
  const param = model.getSearchParam(resourceType, code);
  if (!param) throw new Refusal(`Unknown search parameter "${code}" for ${resourceType}`);
  if (param.type === 'special') throw new Refusal(`Search parameter ${code} (special) is not supported`);
  return param;
}

function parseCriterion(model: FhirModel, resourceType: string, name: string, value: string, depth: number, budget: CriteriaBudget): SearchCriterion {
  if (depth > MAX_CHAIN) throw new Refusal(`Chains deeper than ${MAX_CHAIN} are not supported`);
  budget.spend(name);
  if (name.startsWith('_has:')) return parseHas(model, resourceType, name, value, depth, budget);
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const [code, modifier] = head.split(':', 2) as [string, string | undefined];
  const param = lookupParam(model, resourceType, code);
  if (dot >= 0) {
    if (param.type !== 'reference') throw new Refusal(`Only reference parameters can be chained, not ${code}`);
    const rest = name.slice(dot + 1);
    const chainedCode = rest.split(/[.:]/, 1)[0];
    const candidates = modifier ? [modifier] : param.target ?? [];
    if (modifier && !model.isResourceType(modifier)) throw new Refusal(`Unknown resource type ${modifier} in ${name}`);
    const targetTypes = candidates.filter((t) => model.isResourceType(t) && model.getSearchParam(t, chainedCode));
    if (targetTypes.length === 0) throw new Refusal(`No target of ${code} has a search parameter "${chainedCode}"`);
    return {
      resourceType, param, values: [],
      chain: { targetTypes, criterion: targetTypes.map((t) => parseCriterion(model, t, rest, value, depth + 1, budget)) },
    };
  }
  if (value === '' && modifier !== 'missing') throw new Refusal(`Search parameter ${name} has an empty value`);
  return { resourceType, param, modifier, values: budget.values(name, value) };
}

function parseHas(model: FhirModel, resourceType: string, name: string, value: string, depth: number, budget: CriteriaBudget): SearchCriterion {
  const [, sourceType, referenceCode, ...rest] = name.split(':');
  if (!sourceType || !referenceCode || rest.length === 0) throw new Refusal(`${name} must read _has:Type:reference:parameter`);
  if (!model.isResourceType(sourceType)) throw new Refusal(`Unknown resource type ${sourceType} in ${name}`);
  const referenceParam = lookupParam(model, sourceType, referenceCode);
  if (referenceParam.type !== 'reference') throw new Refusal(`${referenceCode} is not a reference parameter of ${sourceType}`);
  if (referenceParam.target && !referenceParam.target.includes(resourceType)) {
    throw new Refusal(`${sourceType}.${referenceCode} cannot refer to ${resourceType}`);
  }
  const criterion = parseCriterion(model, sourceType, rest.join(':'), value, depth + 1, budget);
  // the criterion's own parameter anchors the SQL; `has` carries the link
  return { resourceType, param: referenceParam, values: [], has: { sourceType, referenceParam, criterion } };
}

function parseResultParam(model: FhirModel, request: SearchRequest, name: string, value: string, options: ParseOptions, limits: SearchLimits): void {
  const [base, qualifier] = name.split(':', 2);
  switch (base) {
    case '_count': {
      if (!/^\d{1,7}$/.test(value)) throw new Refusal(`_count "${value.slice(0, 20)}" is not a non-negative integer`);
      request.count = Math.min(Number(value), options.maxCount);
      return;
    }
    case '_offset': {
      if (!/^\d{1,7}$/.test(value)) throw new Refusal(`_offset "${value.slice(0, 20)}" is not a non-negative integer`);
      request.offset = Number(value);
      return;
    }
    case '_total':
      if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw new Refusal(`_total must be none, estimate or accurate`);
      request.total = value as TotalMode;
      return;
    case '_summary':
      if (!isSummaryMode(value)) throw new Refusal(`_summary must be true, text, data, count or false`);
      request.summary = value;
      return;
    case '_elements':
      request.elements = parseElements(value, limits.maxValues);
      return;
    case '_cursor':
      request.cursor = value;
      return;
    case '_type': {
      const types = [...new Set(value.split(',').map((t) => t.trim()).filter(Boolean))];
      for (const t of types) if (!model.isResourceType(t)) throw new Refusal(`Unknown resource type ${t.slice(0, 80)} in _type`);
      request.types = types;
      return;
    }
    case '_sort': {
      const keys = value.split(',').filter(Boolean);
      const { maxSort } = limits;
      if (request.sort.length + keys.length > maxSort) throw tooCostly(`_sort has more than ${maxSort} keys`, '_sort');
      for (const key of keys) request.sort.push(parseSortKey(model, request, key));
      return;
    }
    case '_include':
    case '_revinclude': {
      const { maxIncludes } = limits;
      if (request.include.length + request.revinclude.length >= maxIncludes) {
        throw tooCostly(`The search has more than ${maxIncludes} _include and _revinclude parameters`, name);
      }
      if (qualifier !== undefined && qualifier !== 'iterate' && qualifier !== 'recurse') throw new Refusal(`${name} is not supported`);
      const spec = parseInclude(model, value === '*' ? `${request.resourceType ?? ''}:*` : value, qualifier !== undefined);
      (base === '_include' ? request.include : request.revinclude).push(spec);
      return;
    }
    default:
  }
}

function parseSortKey(model: FhirModel, request: SearchRequest, key: string): SortKey {
  const descending = key.startsWith('-');
  const code = descending ? key.slice(1) : key;
  const type = request.resourceType ?? (request.types?.length === 1 ? request.types[0] : 'Resource');
  const param = model.getSearchParam(type, code) ?? model.getSearchParam('Resource', code);
  if (!param) throw new Refusal(`Cannot sort by unknown parameter "${code}"`);
  if (param.type === 'composite' || param.type === 'special') throw new Refusal(`Cannot sort by ${param.type} parameter "${code}"`);
  return { param, descending };
}

function parseInclude(model: FhirModel, value: string, iterate: boolean): IncludeSpec {
  const [sourceType, code, targetType] = value.split(':');
  if (!sourceType || !model.isResourceType(sourceType)) throw new Refusal(`_include needs Type:parameter[:target], got "${value.slice(0, 80)}"`);
  if (code === '*') return { sourceType, iterate };
  const param = model.getSearchParam(sourceType, code ?? '');
  if (!param || param.type !== 'reference') throw new Refusal(`${sourceType} has no reference parameter "${code}"`);
  if (targetType && !model.isResourceType(targetType)) throw new Refusal(`Unknown resource type ${targetType} in _include`);
  return { sourceType, param, targetType, iterate };
}
