/**
 * Search parameters as GraphQL arguments: every parameter the server supports for a type
 * (`searchParamSupport`) becomes a `String` argument named by `graphqlArgName` (`-` → `_`), and
 * the inverse map lets the resolvers turn arguments back into a FHIR search. Modifiers
 * (`name:exact`) and chains cannot be GraphQL argument names and are not offered.
 * https://hl7.org/fhir/R4/graphql.html#searching  https://hl7.org/fhir/R4/search.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { SearchParamDef } from '../fhir/model-types.ts';
import { invariant } from '../fhir/outcomes.ts';
import { searchParamSupport } from '../search/search-param-support.ts';
import { graphqlArgName } from './naming.ts';

/** One search argument: its GraphQL name and the FHIR parameter it stands for. */
export interface SearchArg {
  name: string;
  code: string;
  param: SearchParamDef;
}

/** Result parameters of `TList` (and, without `_cursor`, of `TConnection`); `_filter` is not offered. */
export const LIST_RESULT_ARGS: readonly (readonly [string, string])[] = [
  ['_count', 'Int'], ['_offset', 'Int'], ['_sort', 'String'], ['_include', '[String]'], ['_revinclude', '[String]'], ['_total', 'String'],
];

/** Result parameters of a reverse-reference list field. */
export const REVERSE_RESULT_ARGS: readonly (readonly [string, string])[] = [['_count', 'Int'], ['_offset', 'Int'], ['_sort', 'String']];

const cache = new WeakMap<FhirModel, Map<string, SearchArg[]>>();

/**
 * The search arguments of a resource type, sorted by name (memoised per model). Throws when two
 * codes map to one name or a name shadows a result parameter, which no R4 type does.
 * https://hl7.org/fhir/R4/graphql.html#searching
 */
export function listSearchArgs(model: FhirModel, resourceType: string): readonly SearchArg[] {
  let perType = cache.get(model);
  if (!perType) cache.set(model, (perType = new Map()));
  let args = perType.get(resourceType);
  if (!args) perType.set(resourceType, (args = buildSearchArgs(model, resourceType)));
  return args;
}

function buildSearchArgs(model: FhirModel, resourceType: string): SearchArg[] {
  const reserved = new Set([...LIST_RESULT_ARGS.map(([n]) => n), '_cursor', '_reference']);
  const args = searchParamSupport(model, resourceType).supported.map((param) => ({ name: graphqlArgName(param.code), code: param.code, param }));
  const seen = new Set<string>();
  for (const arg of args) {
    invariant(!seen.has(arg.name) && !reserved.has(arg.name), `search argument ${resourceType}.${arg.name} collides with another argument`);
    seen.add(arg.name);
  }
  return args.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The inverse of `graphqlArgName` for one type: GraphQL argument name → FHIR search parameter
 * code (`general_practitioner` → `general-practitioner`), for the resolvers.
 */
export function searchArgCodes(model: FhirModel, resourceType: string): ReadonlyMap<string, string> {
  return new Map(listSearchArgs(model, resourceType).map((a) => [a.name, a.code]));
}

/** SDL of an argument list: the search arguments of a type followed by extra arguments. */
export function renderArgs(searchArgs: readonly SearchArg[], extra: readonly (readonly [string, string])[]): string {
  return [...searchArgs.map((a) => `${a.name}: String`), ...extra.map(([n, t]) => `${n}: ${t}`)].join(', ');
}
