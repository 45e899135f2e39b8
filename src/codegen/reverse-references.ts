/**
 * Reverse references: on a resource type `T`, one field per source type `S` that has a reference
 * search parameter able to target `T`, listing the `S` resources that point at this one
 * (`Patient { ObservationList(_reference: subject, code: "...") }`). Only pairs that a supported
 * reference parameter links get a field (DECISIONS.md §6: every pair would be a 13 MB schema).
 * `_reference` takes one enum per source type, `<S>_ReferenceParam`, listing all of `S`'s
 * reference parameters, rather than one enum per (S, T) pair: one enum per source keeps the
 * schema small, at the price that a value whose parameter cannot target `T` passes validation;
 * the resolver rejects it with `reverseReferenceParams`. A parameter with no declared target
 * (R4: `RequestGroup.instantiates-canonical`, a canonical URL, not a reference to an instance) is
 * left out. https://hl7.org/fhir/R4/graphql.html#searching
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { graphqlArgName, listFieldName, referenceParamEnumName } from './naming.ts';
import { REVERSE_RESULT_ARGS, listSearchArgs, renderArgs, type SearchArg } from './search-args.ts';

/** One source type whose reference parameters can point at a given target type. */
export interface ReverseReference {
  source: string;
  /** The source's reference parameters that can target the type, as search arguments. */
  params: SearchArg[];
}

const cache = new WeakMap<FhirModel, Map<string, ReverseReference[]>>();

/** The supported reference parameters of a type that declare their targets. */
export function listReferenceParams(model: FhirModel, resourceType: string): SearchArg[] {
  return listSearchArgs(model, resourceType).filter((a) => a.param.type === 'reference' && a.param.target?.length);
}

/**
 * For each resource type, the source types that can reference it and through which parameters,
 * sources sorted by name (memoised per model). https://hl7.org/fhir/R4/search.html#reference
 */
export function buildReverseReferenceIndex(model: FhirModel): ReadonlyMap<string, ReverseReference[]> {
  let index = cache.get(model);
  if (index) return index;
  index = new Map(model.resourceTypes.map((t) => [t, []]));
  for (const source of model.resourceTypes) {
    const byTarget = new Map<string, SearchArg[]>();
    for (const arg of listReferenceParams(model, source)) {
      for (const target of arg.param.target ?? []) {
        if (!model.isResourceType(target)) continue;
        let list = byTarget.get(target);
        if (!list) byTarget.set(target, (list = []));
        list.push(arg);
      }
    }
    for (const [target, params] of byTarget) index.get(target)!.push({ source, params });
  }
  cache.set(model, index);
  return index;
}

/**
 * The FHIR codes of the parameters of `source` that can reference `target` (empty when none), for
 * the resolver of `<source>List(_reference:)` on `target`.
 */
export function reverseReferenceParams(model: FhirModel, target: string, source: string): string[] {
  return buildReverseReferenceIndex(model).get(target)?.find((r) => r.source === source)?.params.map((a) => a.code) ?? [];
}

/**
 * For each source type, the target type whose `<S>List` field carries `S`'s arguments in the
 * compact SDL (the first target in model order); see `renderReverseFields`.
 */
export function reverseArgsCarriers(model: FhirModel): ReadonlyMap<string, string> {
  let carriers = carrierCache.get(model);
  if (!carriers) {
    carriers = new Map();
    for (const [target, references] of buildReverseReferenceIndex(model)) {
      for (const { source } of references) if (!carriers.has(source)) carriers.set(source, target);
    }
    carrierCache.set(model, carriers);
  }
  return carriers;
}
const carrierCache = new WeakMap<FhirModel, Map<string, string>>();

/**
 * SDL field lines of the reverse-reference fields of one target type.
 * `compact` leaves the arguments out of every `<S>List` field except the one on `S`'s carrier
 * type: the runtime schema then points all of them at the carrier's argument list
 * (`shareReverseArgs`), since a reverse field's arguments depend on its source only. That is
 * 95% of the schema's 150,000 arguments, which parsing and building would otherwise pay for.
 * https://hl7.org/fhir/R4/graphql.html#searching
 */
export function renderReverseFields(model: FhirModel, target: string, compact = false): string[] {
  const carriers = compact ? reverseArgsCarriers(model) : undefined;
  return (buildReverseReferenceIndex(model).get(target) ?? []).map(({ source }) => {
    if (carriers && carriers.get(source) !== target) return `${listFieldName(source)}: [${source}]`;
    const args = renderArgs(listSearchArgs(model, source), REVERSE_RESULT_ARGS);
    return `${listFieldName(source)}(_reference: ${referenceParamEnumName(source)}!, ${args}): [${source}]`;
  });
}

/**
 * SDL of the `<S>_ReferenceParam` enums, one per source type that is the source of some reverse
 * reference; values are GraphQL argument names (`general_practitioner`), mapped back with
 * `searchArgCodes`. https://hl7.org/fhir/R4/graphql.html#searching
 */
export function renderReferenceParamEnums(model: FhirModel): string {
  const out: string[] = [];
  for (const source of model.resourceTypes) {
    const params = listReferenceParams(model, source);
    if (!params.length) continue;
    out.push(`"The reference search parameters of ${source}, for _reference on a reverse reference."`);
    out.push(`enum ${referenceParamEnumName(source)} {`, ...params.map((a) => `  ${graphqlArgName(a.code)}`), '}', '');
  }
  return out.join('\n');
}
