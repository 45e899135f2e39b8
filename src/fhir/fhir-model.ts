/**
 * Loads the committed FHIR R4 model (`generated/fhir-model.json`) once and indexes it: resource
 * types, element lookups by path, search parameters by resource type, value set expansions.
 * Loading is synchronous (`readFileSync` at the first call, memoised): it runs once at start-up,
 * takes a few tens of milliseconds, and lets callers stay synchronous.
 * https://hl7.org/fhir/R4/resourcelist.html  https://hl7.org/fhir/R4/searchparameter-registry.html
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ElementDef, FhirModelData, SearchParamDef, TypeDef, ValueSetDef } from './model-types.ts';

export type * from './model-types.ts';

/** Absolute path of the committed model file. */
export const MODEL_PATH = fileURLToPath(new URL('./generated/fhir-model.json', import.meta.url));

/** The indexed model. */
export interface FhirModel {
  readonly data: FhirModelData;
  /** Concrete (non-abstract) resource types, sorted. */
  readonly resourceTypes: string[];
  isResourceType(name: string): boolean;
  getType(name: string): TypeDef | undefined;
  /** The element at a full path (`Patient.name`, `Observation.value[x]`). */
  getElement(path: string): ElementDef | undefined;
  /** Direct child elements of a path (a type name or a backbone element path). */
  getChildren(path: string): readonly ElementDef[];
  /** Search parameters that apply to a resource type, including `Resource`/`DomainResource` ones. */
  getSearchParams(resourceType: string): readonly SearchParamDef[];
  getSearchParam(resourceType: string, code: string): SearchParamDef | undefined;
  getSearchParamByUrl(url: string): SearchParamDef | undefined;
  getValueSet(url: string): ValueSetDef | undefined;
  /** The parameters of `resourceType` that put a resource in a `compartment` (empty: not a member). */
  getCompartmentParams(compartment: string, resourceType: string): readonly string[];
}

let cached: FhirModel | undefined;

/** Loads and indexes the committed model once (memoised). */
export function loadFhirModel(): FhirModel {
  cached ??= indexFhirModel(JSON.parse(readFileSync(MODEL_PATH, 'utf8')) as FhirModelData);
  return cached;
}

/** Builds the lookup indexes over a model (exported for tests over an in-memory model). */
export function indexFhirModel(data: FhirModelData): FhirModel {
  const elements = new Map<string, ElementDef>();
  const children = new Map<string, ElementDef[]>();
  for (const t of Object.values(data.types)) {
    for (const el of t.elements) {
      elements.set(el.path, el);
      const parent = el.path.slice(0, el.path.lastIndexOf('.'));
      let list = children.get(parent);
      if (!list) children.set(parent, (list = []));
      list.push(el);
    }
  }
  const resourceTypes = Object.entries(data.types)
    .filter(([, t]) => t.kind === 'resource' && !t.abstract)
    .map(([name]) => name)
    .sort();
  const resourceSet = new Set(resourceTypes);
  const byType = new Map<string, SearchParamDef[]>();
  const byUrl = new Map<string, SearchParamDef>();
  for (const sp of data.searchParams) {
    byUrl.set(sp.url, sp);
    for (const base of sp.base) {
      let list = byType.get(base);
      if (!list) byType.set(base, (list = []));
      list.push(sp);
    }
  }
  const inherited = [...(byType.get('Resource') ?? []), ...(byType.get('DomainResource') ?? [])];
  const perType = new Map<string, SearchParamDef[]>();
  const byCode = new Map<string, Map<string, SearchParamDef>>();
  for (const rt of resourceTypes) {
    const list = [...(rt === 'Bundle' || rt === 'Binary' || rt === 'Parameters' ? inherited.filter((p) => p.base.includes('Resource')) : inherited), ...(byType.get(rt) ?? [])];
    perType.set(rt, list);
    byCode.set(rt, new Map(list.map((p) => [p.code, p])));
  }
  return {
    data,
    resourceTypes,
    isResourceType: (name) => resourceSet.has(name),
    getType: (name) => (Object.hasOwn(data.types, name) ? data.types[name] : undefined),
    getElement: (path) => elements.get(path),
    getChildren: (path) => children.get(path) ?? [],
    getSearchParams: (rt) => perType.get(rt) ?? [],
    getSearchParam: (rt, code) => byCode.get(rt)?.get(code),
    getSearchParamByUrl: (url) => byUrl.get(url),
    getValueSet: (url) => (Object.hasOwn(data.valueSets, url) ? data.valueSets[url] : undefined),
    getCompartmentParams: (compartment, resourceType) => data.compartments?.[compartment]?.[resourceType] ?? [],
  };
}
