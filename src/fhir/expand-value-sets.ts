/**
 * Expands the value sets used by required bindings from the CodeSystems and ValueSets in the
 * definitions package, for the committed model. Falls back to the pre-computed expansions
 * bundle, then to a format-only check for the sets the package cannot expand (DECISIONS §4).
 * https://hl7.org/fhir/R4/valueset.html#expansion
 */
import type { ValueSetDef, ValueSetFormat } from './model-types.ts';

/** A loosely typed FHIR resource as read from the package JSON. */
export type RawResource = Record<string, any>;

interface Concept { code: string; concept?: Concept[]; property?: { code: string; valueCode?: string; valueBoolean?: boolean }[] }

/**
 * Value sets that cannot be expanded from the package and how they are checked instead (DECISIONS
 * §4). `v3-ConfidentialityClassification`, also named there, does expand: the package's ValueSet
 * lists its six codes explicitly (U, L, M, N, R, V); only the `|2014-03-26` version suffix of the
 * binding has to be dropped to find it.
 */
const FORMAT_ONLY: Record<string, ValueSetFormat> = {
  'http://hl7.org/fhir/ValueSet/mimetypes': 'mime-type',
  'http://hl7.org/fhir/ValueSet/currencies': 'currency',
  'http://hl7.org/fhir/ValueSet/ucum-units': 'ucum',
  'http://loinc.org/vs/LL379-9': 'loinc-answer',
};

type Codes = Map<string, Set<string>>;

class UnexpandableError extends Error {}

/** Builds the expander over every CodeSystem and ValueSet resource of the given bundles. */
export function createValueSetExpander(resources: RawResource[], expansions: RawResource[]) {
  const codeSystems = new Map<string, RawResource>();
  const valueSets = new Map<string, RawResource>();
  for (const r of resources) {
    if (r.resourceType === 'CodeSystem' && !codeSystems.has(r.url)) codeSystems.set(r.url, r);
    if (r.resourceType === 'ValueSet' && !valueSets.has(r.url)) valueSets.set(r.url, r);
  }
  const preExpanded = new Map<string, RawResource>();
  for (const r of expansions) if (r.resourceType === 'ValueSet' && r.expansion) preExpanded.set(r.url, r);
  const memo = new Map<string, Codes>();

  function allConcepts(system: string): Concept[] {
    const cs = codeSystems.get(system);
    if (!cs || cs.content !== 'complete' || !cs.concept) throw new UnexpandableError(`code system ${system}`);
    return cs.concept;
  }

  function flatten(concepts: Concept[], out: string[]): void {
    for (const c of concepts) {
      out.push(c.code);
      if (c.concept) flatten(c.concept, out);
    }
  }

  function findConcept(concepts: Concept[], code: string): Concept | undefined {
    for (const c of concepts) {
      if (c.code === code) return c;
      const hit = c.concept && findConcept(c.concept, code);
      if (hit) return hit;
    }
    return undefined;
  }

  function applyFilter(system: string, filter: RawResource): string[] {
    const concepts = allConcepts(system);
    if ((filter.op === 'is-a' || filter.op === 'descendent-of') && filter.property === 'concept') {
      const root = findConcept(concepts, filter.value);
      if (!root) throw new UnexpandableError(`filter root ${filter.value}`);
      const out: string[] = [];
      flatten(root.concept ?? [], out);
      if (filter.op === 'is-a') out.push(root.code);
      return out;
    }
    throw new UnexpandableError(`filter ${filter.property} ${filter.op}`);
  }

  function includeCodes(inc: RawResource): Codes {
    let result: Codes | undefined;
    if (inc.system) {
      let codes: string[];
      if (inc.concept) codes = inc.concept.map((c: Concept) => c.code);
      else if (inc.filter) {
        codes = applyFilter(inc.system, inc.filter[0]);
        for (const f of inc.filter.slice(1)) {
          const keep = new Set(applyFilter(inc.system, f));
          codes = codes.filter((c) => keep.has(c));
        }
      } else {
        codes = [];
        flatten(allConcepts(inc.system), codes);
      }
      result = new Map([[inc.system, new Set(codes)]]);
    }
    for (const url of inc.valueSet ?? []) {
      const other = expandCodes(url.split('|')[0]);
      result = result ? intersect(result, other) : other;
    }
    if (!result) throw new UnexpandableError('empty include');
    return result;
  }

  function expandFromCompose(vs: RawResource): Codes {
    const out: Codes = new Map();
    for (const inc of vs.compose?.include ?? []) merge(out, includeCodes(inc));
    for (const exc of vs.compose?.exclude ?? []) {
      for (const [system, codes] of includeCodes(exc)) {
        const have = out.get(system);
        if (have) for (const c of codes) have.delete(c);
      }
    }
    if (!vs.compose) throw new UnexpandableError('no compose');
    return out;
  }

  function expandCodes(url: string): Codes {
    const known = memo.get(url);
    if (known) return known;
    const vs = valueSets.get(url);
    let codes: Codes;
    try {
      if (!vs) throw new UnexpandableError(`value set ${url}`);
      codes = expandFromCompose(vs);
    } catch (err) {
      if (!(err instanceof UnexpandableError)) throw err;
      const pre = preExpanded.get(url);
      if (!pre || !pre.expansion.contains) throw err;
      codes = new Map();
      collectExpansion(pre.expansion.contains, codes);
    }
    memo.set(url, codes);
    return codes;
  }

  /** Expands one value set for the model; never throws. */
  return function expand(url: string): ValueSetDef {
    if (FORMAT_ONLY[url]) return { format: FORMAT_ONLY[url] };
    try {
      const codes = expandCodes(url);
      const out: Record<string, string[]> = {};
      for (const [system, set] of codes) out[system] = [...set].sort();
      return { codes: out };
    } catch (err) {
      if (!(err instanceof UnexpandableError)) throw err;
      return { format: 'any' };
    }
  };
}

function collectExpansion(contains: RawResource[], out: Codes): void {
  for (const c of contains) {
    if (c.system && c.code && !c.abstract) add(out, c.system, c.code);
    if (c.contains) collectExpansion(c.contains, out);
  }
}

function add(out: Codes, system: string, code: string): void {
  let set = out.get(system);
  if (!set) out.set(system, (set = new Set()));
  set.add(code);
}

function merge(into: Codes, from: Codes): void {
  for (const [system, codes] of from) for (const c of codes) add(into, system, c);
}

function intersect(a: Codes, b: Codes): Codes {
  const out: Codes = new Map();
  for (const [system, codes] of a) {
    const other = b.get(system);
    if (other) for (const c of codes) if (other.has(c)) add(out, system, c);
  }
  return out;
}
