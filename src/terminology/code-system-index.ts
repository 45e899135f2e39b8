/**
 * An index over one CodeSystem: its concepts by code in document order, and the hierarchy both
 * ways — from nested `concept`s and from the standard `parent`/`child` concept properties (the v3
 * code systems state some links only as `child`). Built once per resource object and kept while
 * the object lives. https://hl7.org/fhir/R4/codesystem.html#hierarchy
 * https://hl7.org/fhir/R4/codesystem-concept-properties.html
 */
import type { CodeSystemResource, ConceptDef } from './terminology-types.ts';

/** One concept with its place in the hierarchy. */
export interface IndexedConcept {
  concept: ConceptDef;
  parents: string[];
  children: string[];
}

/** The concepts of a code system, in document order, with the hierarchy. */
export interface CodeSystemIndex {
  readonly codeSystem: CodeSystemResource;
  readonly concepts: ReadonlyMap<string, IndexedConcept>;
}

const indexes = new WeakMap<CodeSystemResource, CodeSystemIndex>();

function link(concepts: Map<string, IndexedConcept>, parent: string, child: string): void {
  const p = concepts.get(parent);
  const c = concepts.get(child);
  if (!p || !c || parent === child) return;
  if (!p.children.includes(child)) p.children.push(child);
  if (!c.parents.includes(parent)) c.parents.push(parent);
}

/** The index of `codeSystem` (memoised per object). */
export function indexCodeSystem(codeSystem: CodeSystemResource): CodeSystemIndex {
  const known = indexes.get(codeSystem);
  if (known) return known;
  const concepts = new Map<string, IndexedConcept>();
  const nested: [string, string][] = [];
  const walk = (list: ConceptDef[] | undefined, parent: string | undefined) => {
    for (const concept of list ?? []) {
      if (typeof concept?.code !== 'string') continue;
      if (!concepts.has(concept.code)) concepts.set(concept.code, { concept, parents: [], children: [] });
      if (parent !== undefined) nested.push([parent, concept.code]);
      walk(concept.concept, concept.code);
    }
  };
  walk(codeSystem.concept, undefined);
  for (const [parent, child] of nested) link(concepts, parent, child);
  for (const [code, { concept }] of concepts) {
    for (const p of concept.property ?? []) {
      const value = p.valueCode ?? p.valueCoding?.code;
      if (value === undefined) continue;
      if (p.code === 'parent' || p.code === 'subsumedBy') link(concepts, value, code);
      if (p.code === 'child') link(concepts, code, value);
    }
  }
  const index = { codeSystem, concepts };
  indexes.set(codeSystem, index);
  return index;
}

/** Every descendant of `code` (not itself), depth first, each once; bounded by the system's size. */
export function descendantsOf(index: CodeSystemIndex, code: string): string[] {
  const out: string[] = [];
  const seen = new Set([code]);
  const stack = [...(index.concepts.get(code)?.children ?? [])].reverse();
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    out.push(next);
    const children = index.concepts.get(next)?.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

/** Every ancestor of `code` (not itself), each once. */
export function ancestorsOf(index: CodeSystemIndex, code: string): string[] {
  const out: string[] = [];
  const seen = new Set([code]);
  const stack = [...(index.concepts.get(code)?.parents ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    out.push(next);
    stack.push(...(index.concepts.get(next)?.parents ?? []));
  }
  return out;
}

/** The value of a concept property as text (code, Coding code, string, boolean, number). */
export function propertyText(concept: ConceptDef, code: string): string[] {
  return (concept.property ?? []).filter((p) => p.code === code).map((p) => {
    const value = p.valueCode ?? p.valueCoding?.code ?? p.valueString ?? p.valueBoolean ?? p.valueInteger ?? p.valueDateTime ?? p.valueDecimal;
    return value === undefined ? '' : String(value);
  });
}

/** True when a concept is marked not selectable (`notSelectable`, or v3's `abstract`). */
export function isAbstract(concept: ConceptDef): boolean {
  return (concept.property ?? []).some((p) => (p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean === true);
}

/** True when a concept is inactive (`inactive` true, or `status` retired or inactive). */
export function isInactive(concept: ConceptDef): boolean {
  return (concept.property ?? []).some((p) => (p.code === 'inactive' && p.valueBoolean === true)
    || (p.code === 'status' && (p.valueCode === 'retired' || p.valueCode === 'inactive')));
}
