/**
 * The built-in terminology as `npm run codegen` writes it (scripts/build-terminology.ts): the
 * CodeSystems and ValueSets of the R4 definitions package (`Bundle-valuesets.json`,
 * `Bundle-v3-valuesets.json`, `Bundle-v2-valuesets.json`), cut to what expansion, lookup and
 * validation read — concepts with code, display, definition, designations, properties and
 * hierarchy; compose — with narrative, extensions and publishing metadata dropped. A ValueSet
 * whose compose cannot be expanded from the package carries the published expansion
 * (`Bundle-valueset-expansions.json`) instead, when that expansion is the whole value set: not
 * marked too costly or unclosed, and drawing on no SNOMED CT or LOINC code (those published
 * expansions are samples of one edition cut at 1,000 to 4,000 codes; this server holds neither
 * terminology, so such value sets answer 422 rather than a silently partial list). One resource per line, sorted by URL, so the
 * output is byte-stable and diffs stay readable. Pure: the staleness test re-runs it.
 * https://hl7.org/fhir/R4/downloads.html
 */
import { expandValueSet } from './expand-value-set.ts';
import { createPackageSource, type RawResource } from './package-source.ts';
import { TerminologyError } from './terminology-errors.ts';

/** The two generated files' text. */
export interface CompactTerminology {
  codeSystems: string;
  valueSets: string;
}

const CODE_SYSTEM_KEYS = ['resourceType', 'id', 'url', 'version', 'name', 'title', 'status', 'caseSensitive', 'hierarchyMeaning', 'content', 'property', 'concept'];
const VALUE_SET_KEYS = ['resourceType', 'id', 'url', 'version', 'name', 'title', 'status', 'compose'];
const CONCEPT_KEYS = ['code', 'display', 'definition', 'designation', 'property', 'concept'];
const ENTRY_KEYS = ['system', 'version', 'code', 'display', 'abstract', 'inactive'];

/** A copy of `value` without `extension`/`modifierExtension` at any depth. */
function withoutExtensions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExtensions);
  if (value === null || typeof value !== 'object') return value;
  const out: RawResource = {};
  for (const [key, v] of Object.entries(value)) if (key !== 'extension' && key !== 'modifierExtension') out[key] = withoutExtensions(v);
  return out;
}

function pick(source: RawResource, keys: readonly string[]): RawResource {
  const out: RawResource = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

function compactConcept(concept: RawResource): RawResource {
  const out = pick(withoutExtensions(concept) as RawResource, CONCEPT_KEYS);
  if (Array.isArray(out.concept)) out.concept = concept.concept.map(compactConcept);
  return out;
}

function compactCodeSystem(cs: RawResource): RawResource {
  const out = pick(cs, CODE_SYSTEM_KEYS);
  if (out.property) out.property = out.property.map((p: RawResource) => pick(p, ['code', 'uri', 'type']));
  if (out.concept) out.concept = out.concept.map(compactConcept);
  return out;
}

/** Terminologies the package holds no CodeSystem of, whose published expansions are samples. */
const EXTERNAL_SYSTEMS = new Set(['http://snomed.info/sct', 'http://loinc.org']);
const PARTIAL_MARKS = new Set(['http://hl7.org/fhir/StructureDefinition/valueset-toocostly', 'http://hl7.org/fhir/StructureDefinition/valueset-unclosed']);

/** True when a published expansion lists the whole value set (see the module comment). */
function isWhole(expansion: RawResource, entries: RawResource[]): boolean {
  if ((expansion.extension ?? []).some((e: RawResource) => PARTIAL_MARKS.has(e.url))) return false;
  return !entries.some((e) => EXTERNAL_SYSTEMS.has(e.system));
}

/** The published expansion, flattened to its codes. */
function compactExpansion(contains: RawResource[]): RawResource[] {
  const out: RawResource[] = [];
  const walk = (list: RawResource[]) => {
    for (const c of list) {
      if (c.system && c.code) out.push(pick(c, ENTRY_KEYS));
      if (Array.isArray(c.contains)) walk(c.contains);
    }
  };
  walk(contains);
  return out;
}

function lines(resources: RawResource[]): string {
  const sorted = [...resources].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  return `[\n${sorted.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

/** Builds the generated files from the package's terminology resources and published expansions. */
export function buildCompactTerminology(resources: RawResource[], expansions: RawResource[]): CompactTerminology {
  const source = createPackageSource(resources);
  const published = new Map<string, RawResource>();
  for (const r of expansions) if (r?.resourceType === 'ValueSet' && typeof r.url === 'string' && Array.isArray(r.expansion?.contains)) published.set(r.url, r);
  const seen = new Set<string>();
  const codeSystems: RawResource[] = [];
  const valueSets: RawResource[] = [];
  for (const r of resources) {
    if (typeof r?.url !== 'string' || seen.has(`${r.resourceType} ${r.url}`)) continue;
    seen.add(`${r.resourceType} ${r.url}`);
    if (r.resourceType === 'CodeSystem') codeSystems.push(compactCodeSystem(r));
    if (r.resourceType !== 'ValueSet') continue;
    const vs = pick(r, VALUE_SET_KEYS);
    if (vs.compose) vs.compose = withoutExtensions(vs.compose);
    const pre = published.get(r.url);
    const contains = pre ? compactExpansion(pre.expansion.contains) : [];
    if (pre && isWhole(pre.expansion, contains) && !expandsFromPackage(r, source)) vs.expansion = { contains };
    valueSets.push(vs);
  }
  return { codeSystems: lines(codeSystems), valueSets: lines(valueSets) };
}

function expandsFromPackage(vs: RawResource, source: ReturnType<typeof createPackageSource>): boolean {
  try {
    expandValueSet(vs as never, source, { maxEntries: Number.POSITIVE_INFINITY });
    return true;
  } catch (err) {
    if (err instanceof TerminologyError) return false;
    throw err;
  }
}
