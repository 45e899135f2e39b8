/**
 * `CodeSystem/$lookup`'s answer for one concept: the system's name and version, the display, the
 * designations and the properties — the concept's own, its `definition`, and its place in the
 * hierarchy as `parent` and `child` — as a Parameters resource. `properties`, when given, names
 * the property codes wanted (`designation` among them keeps the designations).
 * https://hl7.org/fhir/R4/codesystem-operation-lookup.html
 */
import { indexCodeSystem } from './code-system-index.ts';
import type { CodeSystemResource, ConceptProperty } from './terminology-types.ts';

/** A Parameters resource (`Parameters.parameter` with nested parts). */
export interface ParametersResource {
  resourceType: 'Parameters';
  parameter: Record<string, unknown>[];
}

/** The `value[x]` of a concept property. */
function valueOf(p: ConceptProperty): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) if (key.startsWith('value')) out[key] = value;
  return out;
}

/** The lookup answer for `code` in `cs`, or undefined when the system does not define it. */
export function lookupConcept(cs: CodeSystemResource, code: string, properties?: readonly string[]): ParametersResource | undefined {
  const found = indexCodeSystem(cs).concepts.get(code);
  if (!found) return undefined;
  const { concept, parents, children } = found;
  const wanted = (name: string) => properties === undefined || properties.length === 0 || properties.includes(name);
  const parameter: Record<string, unknown>[] = [{ name: 'name', valueString: cs.name ?? cs.title ?? cs.url ?? 'CodeSystem' }];
  if (cs.version !== undefined) parameter.push({ name: 'version', valueString: cs.version });
  parameter.push({ name: 'display', valueString: concept.display ?? concept.code });
  if (wanted('designation')) {
    for (const d of concept.designation ?? []) {
      const part: Record<string, unknown>[] = [];
      if (d.language) part.push({ name: 'language', valueCode: d.language });
      if (d.use) part.push({ name: 'use', valueCoding: d.use });
      part.push({ name: 'value', valueString: d.value });
      parameter.push({ name: 'designation', part });
    }
  }
  const property = (code: string, value: Record<string, unknown>) => {
    if (wanted(code)) parameter.push({ name: 'property', part: [{ name: 'code', valueCode: code }, { name: 'value', ...value }] });
  };
  if (concept.definition !== undefined) property('definition', { valueString: concept.definition });
  const stated = new Set<string>();
  for (const p of concept.property ?? []) {
    if (typeof p?.code !== 'string') continue;
    const value = valueOf(p);
    if (Object.keys(value).length === 0) continue;
    if (p.code === 'parent' || p.code === 'child') stated.add(`${p.code} ${String(p.valueCode ?? p.valueCoding?.code)}`);
    property(p.code, value);
  }
  for (const parent of parents) if (!stated.has(`parent ${parent}`)) property('parent', { valueCode: parent });
  for (const child of children) if (!stated.has(`child ${child}`)) property('child', { valueCode: child });
  return { resourceType: 'Parameters', parameter };
}
