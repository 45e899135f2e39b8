/**
 * Pure derivation of the committed FHIR R4 model from the definitions bundles of
 * `hl7.fhir.r4.examples@4.0.1`. `scripts/build-fhir-model.ts` writes its result; the staleness
 * test re-runs it in memory and compares.
 * https://hl7.org/fhir/R4/structuredefinition.html  https://hl7.org/fhir/R4/elementdefinition.html
 */
import type { ElementDef, FhirModelData, SearchParamDef, TypeDef, TypeRef, ValueSetDef } from './model-types.ts';

/** A loosely typed FHIR resource as read from the package JSON. */
export type RawResource = Record<string, any>;

/** The parsed bundles the model is derived from. */
export interface ModelSources {
  /** `Bundle-resources.json` */
  resources: RawResource;
  /** `Bundle-types.json` */
  types: RawResource;
  /** `Bundle-searchParams.json` */
  searchParams: RawResource;
  /** `Bundle-valuesets.json`, `Bundle-v2-valuesets.json`, `Bundle-v3-valuesets.json` */
  terminology: RawResource[];
  /** `Bundle-valueset-expansions.json` (pre-computed expansions, used as a fallback) */
  expansions: RawResource;
  /** The `CompartmentDefinition-*.json` resources. */
  compartments: RawResource[];
}

/** Builds the expander of required bindings' value sets over the terminology resources and the published expansions. */
export type ValueSetExpanderFactory = (resources: RawResource[], expansions: RawResource[]) => (url: string) => ValueSetDef;

const SD_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';
const FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';
const REGEX_EXT = 'http://hl7.org/fhir/StructureDefinition/regex';

function entries(bundle: RawResource): RawResource[] {
  return (bundle.entry ?? []).map((e: RawResource) => e.resource).filter(Boolean);
}

function typeName(url: string): string {
  const bare = url.split('|')[0];
  return bare.startsWith(SD_PREFIX) ? bare.slice(SD_PREFIX.length) : bare;
}

function convertType(t: RawResource, el: RawResource, isResourceId: boolean): TypeRef {
  let code: string = t.code;
  if (code.startsWith('http://hl7.org/fhirpath/System.')) {
    // R4 snapshots type Resource.id as System.String with fhir-type `string`; the spec says `id`.
    const fhirType = t.extension?.find((x: RawResource) => x.url === FHIR_TYPE_EXT)?.valueUrl;
    if (isResourceId) code = 'id';
    else if (fhirType && !el.path.match(/^[a-z][A-Za-z0-9]*\.value$/)) code = fhirType;
  }
  const ref: TypeRef = { code };
  const profiles: string[] | undefined = t.targetProfile;
  if (profiles?.length) ref.targets = profiles.map(typeName).sort();
  return ref;
}

function convertElement(el: RawResource, isResource: boolean): ElementDef {
  const def: ElementDef = { path: el.path, min: el.min ?? 0, max: el.max ?? '*' };
  const isResourceId = isResource && el.base?.path === 'Resource.id';
  if (el.contentReference) def.contentReference = el.contentReference;
  else if (el.type) def.types = el.type.map((t: RawResource) => convertType(t, el, isResourceId));
  if (el.binding) {
    def.binding = { strength: el.binding.strength };
    if (el.binding.valueSet) def.binding.valueSet = el.binding.valueSet.split('|')[0];
  }
  if (el.isSummary) def.summary = true;
  if (el.isModifier) def.modifier = true;
  const regex = el.type?.[0]?.extension?.find((x: RawResource) => x.url === REGEX_EXT)?.valueString;
  if (regex) def.regex = regex;
  return def;
}

function convertStructure(sd: RawResource): TypeDef {
  const def: TypeDef = { kind: sd.kind, elements: [] };
  if (sd.abstract) def.abstract = true;
  if (sd.baseDefinition) def.base = typeName(sd.baseDefinition);
  const [, ...rest] = sd.snapshot.element as RawResource[];
  def.elements = rest.map((el) => convertElement(el, sd.kind === 'resource'));
  return def;
}

function convertSearchParam(sp: RawResource): SearchParamDef {
  const def: SearchParamDef = { url: sp.url, code: sp.code, type: sp.type, base: [...sp.base] };
  if (sp.expression) def.expression = sp.expression;
  if (sp.target?.length) def.target = [...sp.target].sort();
  if (sp.modifier?.length) def.modifier = [...sp.modifier];
  if (sp.comparator?.length) def.comparator = [...sp.comparator];
  if (sp.multipleOr !== undefined) def.multipleOr = sp.multipleOr;
  if (sp.multipleAnd !== undefined) def.multipleAnd = sp.multipleAnd;
  if (sp.component?.length) {
    def.component = sp.component.map((c: RawResource) => ({ definition: c.definition, expression: c.expression }));
  }
  return def;
}

/**
 * Derives the model: every resource type (concrete and abstract), complex datatype and primitive
 * type with its snapshot elements; the expansions of every value set named by a required binding;
 * every search parameter. Pure and deterministic. `createExpander` builds the value-set expander
 * over the package's CodeSystems, ValueSets and published expansions: the terminology layer's
 * (src/terminology/model-value-sets.ts), passed in because that layer sits above this one.
 */
export function buildFhirModel(src: ModelSources, createExpander: ValueSetExpanderFactory): FhirModelData {
  const types: Record<string, TypeDef> = {};
  for (const sd of [...entries(src.resources), ...entries(src.types)]) {
    if (sd.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint') continue;
    if (sd.kind === 'logical' || !sd.snapshot) continue;
    types[sd.id] = convertStructure(sd);
  }
  const expand = createExpander(src.terminology.flatMap(entries), entries(src.expansions));
  const valueSets: FhirModelData['valueSets'] = {};
  for (const t of Object.values(types)) {
    for (const el of t.elements) {
      const vs = el.binding?.valueSet;
      if (el.binding?.strength === 'required' && vs && !valueSets[vs]) valueSets[vs] = expand(vs);
    }
  }
  const searchParams = entries(src.searchParams)
    .filter((r) => r.resourceType === 'SearchParameter')
    .map(convertSearchParam)
    .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  const compartments: FhirModelData['compartments'] = {};
  for (const definition of src.compartments) {
    if (definition.resourceType !== 'CompartmentDefinition' || !definition.code) continue;
    const members: Record<string, string[]> = {};
    for (const r of definition.resource ?? []) if (r.param?.length) members[r.code] = r.param;
    compartments[definition.code] = members;
  }
  return { fhirVersion: '4.0.1', types, valueSets, searchParams, compartments };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * Serialises the model deterministically: keys sorted, one line per type, value set and search
 * parameter, so regeneration is byte-stable and diffs stay readable.
 */
export function stringifyFhirModel(model: FhirModelData): string {
  const sorted = sortKeys(model) as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(sorted)) {
    const value = sorted[key];
    let body: string;
    if (Array.isArray(value)) body = `[\n${value.map((v) => JSON.stringify(v)).join(',\n')}\n]`;
    else if (value && typeof value === 'object') {
      const lines = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      body = `{\n${lines.join(',\n')}\n}`;
    } else body = JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}: ${body}`);
  }
  return `{\n${parts.join(',\n')}\n}\n`;
}
