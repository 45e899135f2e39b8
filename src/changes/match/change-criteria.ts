/**
 * Subscription criteria: a FHIR search query string for one resource type
 * (`code=http://loinc.org|8867-4&subject=Patient/1`, or R4 `Subscription.criteria`'s
 * `Observation?code=…`), parsed and checked up front by the REST search's own parser in strict
 * mode, under the REST search's cost limits (`SEARCH_MAX_*`), and compiled into tests on a
 * version's index rows, so a change matches exactly when the same REST search would find that
 * version. Chains and `_has` are evaluated against the current data (`current-data-tests.ts`).
 * https://hl7.org/fhir/R4/subscription-definitions.html#Subscription.criteria
 */
import type { SearchLimits } from '../../config.ts';
import { loadFhirModel, type FhirModel } from '../../fhir/fhir-model.ts';
import { badRequest } from '../../fhir/outcomes.ts';
import { parseSearch } from '../../search/parse-search.ts';
import type { SearchCriterion } from '../../search/search-request.ts';
import { unescapeValue } from '../../search/search-values.ts';
import type { Queryable } from '../../store/database.ts';
import { chainTest, hasTest, type CurrentDataTest } from './current-data-tests.ts';
import type { IndexedVersion } from './indexed-version.ts';
import { dateTest, valueTest, type Row, type RowTest, type ValueTestContext } from './value-tests.ts';

/** A test a version alone decides. */
type VersionTest = (version: IndexedVersion) => boolean;

/** Parsed, checked and compiled criteria for one resource type. */
export interface ChangeCriteria {
  readonly resourceType: string;
  /** The criteria as a canonical query string (`''`: every change of the type matches). */
  readonly query: string;
  /** True when a chain or `_has` makes matching read the database. */
  readonly usesCurrentData: boolean;
  /**
   * The other types the criteria search (chain targets, `_has` sources): a subscriber must be
   * allowed to search each of them, as for the same REST search.
   */
  readonly searchedTypes: readonly string[];
  readonly inMemory: readonly VersionTest[];
  readonly currentData: readonly CurrentDataTest[];
}

/** How to parse criteria. */
export interface CriteriaOptions {
  /** The type the criteria are for; when absent, the criteria must start with it (`Observation?…`). */
  resourceType?: string;
  /** The REST search's cost limits (`Config.limits.search`). */
  limits: SearchLimits;
  /** `PUBLIC_URL/fhir`: absolute references under it are local, as in the REST search. */
  fhirBaseUrl: string;
  model?: FhirModel;
}

/** Parameters that shape a search's results: meaningless for a change, so refused in criteria. */
const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_cursor', '_format', '_pretty', '_type', '_contained', '_containedType']);
const TYPED = /^([A-Z][A-Za-z]{0,63})(?:\?|$)/;

/** Splits a leading `Type?` off criteria text, checking it against the expected type. */
function splitType(text: string, expected: string | undefined, model: FhirModel): { resourceType: string; query: string } {
  const typed = TYPED.exec(text);
  if (typed) {
    const [, type] = typed;
    if (!model.isResourceType(type)) throw badRequest(`Unknown resource type "${type}" in the criteria`, 'criteria');
    if (expected && type !== expected) throw badRequest(`The criteria are for ${type}, not ${expected}`, 'criteria');
    return { resourceType: type, query: text.slice(typed[0].length) };
  }
  if (!expected) throw badRequest('The criteria must start with a resource type, as in "Observation?code=…"', 'criteria');
  return { resourceType: expected, query: text.startsWith('?') ? text.slice(1) : text };
}

/**
 * Parses criteria text; throws a 400 {@link FhirError} naming the reason (unknown parameter or
 * modifier, malformed value, result parameter, over a search limit).
 */
export function parseChangeCriteria(text: string, options: CriteriaOptions): ChangeCriteria {
  const model = options.model ?? loadFhirModel();
  if (options.resourceType && !model.isResourceType(options.resourceType)) throw badRequest(`Unknown resource type "${options.resourceType}"`);
  const { resourceType, query } = splitType(text.trim(), options.resourceType, model);
  const params = [...new URLSearchParams(query)];
  for (const [name] of params) {
    const base = name.split(':', 1)[0];
    if (RESULT_PARAMS.has(base)) throw badRequest(`${base} shapes search results; criteria take search parameters only`, name);
  }
  const request = parseSearch(model, resourceType, params, { strict: true, defaultCount: 1, maxCount: 1, limits: options.limits });
  const ctx: ValueTestContext = { model, fhirBaseUrl: options.fhirBaseUrl };
  const inMemory: VersionTest[] = [];
  const currentData: CurrentDataTest[] = [];
  for (const criterion of request.criteria) {
    if (criterion.has) currentData.push(hasTest(criterion, ctx));
    else if (criterion.chain) currentData.push(chainTest(criterion, ctx));
    else inMemory.push(criterionTest(criterion, ctx));
  }
  const searchedTypes = new Set<string>();
  collectSearchedTypes(request.criteria, searchedTypes);
  return { resourceType, query: request.canonicalQuery, usesCurrentData: currentData.length > 0, searchedTypes: [...searchedTypes], inMemory, currentData };
}

/** Adds the types that chains and `_has` in `criteria` search (as `authorizeCriteria` walks them). */
function collectSearchedTypes(criteria: readonly SearchCriterion[], into: Set<string>): void {
  for (const c of criteria) {
    if (c.chain) {
      for (const [i, type] of c.chain.targetTypes.entries()) {
        into.add(type);
        collectSearchedTypes([c.chain.criterion[i]], into);
      }
    }
    if (c.has) {
      into.add(c.has.sourceType);
      collectSearchedTypes([c.has.criterion], into);
    }
  }
}

/** One criterion (not a chain, not `_has`) as a test on a version: the OR of its values, per `criterion-sql.ts`. */
function criterionTest(criterion: SearchCriterion, ctx: ValueTestContext): VersionTest {
  const { param, modifier, values } = criterion;
  if (param.code === '_id') return idTest(criterion);
  if (param.code === '_lastUpdated' && modifier !== 'missing') {
    const tests = values.map((v) => dateTest(v));
    return (version) => {
      const instant = { low: version.lastUpdated.toISOString(), high: version.lastUpdated.toISOString() };
      return tests.some((test) => test(instant));
    };
  }
  if (modifier === 'missing') {
    const value = values[0];
    if (value !== 'true' && value !== 'false') throw badRequest(':missing takes true or false');
    return (version) => ((version.rows.get(param.code)?.length ?? 0) === 0) === (value === 'true');
  }
  const tests: RowTest[] = values.map((value) => valueTest(param, value, modifier === 'not' ? undefined : modifier, ctx));
  if (modifier === 'not' && param.type !== 'token') throw badRequest(':not is supported on token parameters');
  const exists = (version: IndexedVersion) => (version.rows.get(param.code) ?? []).some((row) => tests.some((test) => test(row as unknown as Row)));
  return modifier === 'not' ? (version) => !exists(version) : exists;
}

function idTest(criterion: SearchCriterion): VersionTest {
  const { modifier, values } = criterion;
  if (modifier === 'missing') {
    const always = values[0] !== 'true';
    return () => always;
  }
  if (modifier && modifier !== 'not') throw badRequest(`Modifier :${modifier} is not supported on _id`);
  const ids = new Set(values.map(unescapeValue));
  return modifier === 'not' ? (version) => !ids.has(version.id) : (version) => ids.has(version.id);
}

/**
 * True when the version matches the criteria: its type is the criteria's and every criterion
 * holds. In-memory tests run first; the database is asked only when they all hold and the
 * criteria have a chain or `_has`.
 */
export async function matchesCriteria(criteria: ChangeCriteria, version: IndexedVersion, db: Queryable): Promise<boolean> {
  if (version.resourceType !== criteria.resourceType) return false;
  if (!criteria.inMemory.every((test) => test(version))) return false;
  for (const test of criteria.currentData) if (!(await test(version, db))) return false;
  return true;
}
