/**
 * The canonicals a ValueSet's compose names: the code systems of its includes and excludes (with
 * the versions they pin) and the value sets it imports — what must be fetched before it can be
 * expanded. https://hl7.org/fhir/R4/valueset.html#compositions
 */
import { parseCanonical, type Canonical } from './canonical.ts';
import type { ValueSetResource } from './terminology-types.ts';

/** The code systems and value sets `vs` refers to. */
export function composeReferences(vs: ValueSetResource): { codeSystems: Canonical[]; valueSets: Canonical[] } {
  const codeSystems: Canonical[] = [];
  const valueSets: Canonical[] = [];
  const parts = [...(vs.compose?.include ?? []), ...(vs.compose?.exclude ?? [])];
  for (const part of Array.isArray(parts) ? parts : []) {
    if (typeof part?.system === 'string') codeSystems.push(typeof part.version === 'string' ? { url: part.system, version: part.version } : { url: part.system });
    for (const ref of Array.isArray(part?.valueSet) ? part.valueSet : []) if (typeof ref === 'string') valueSets.push(parseCanonical(ref));
  }
  return { codeSystems, valueSets };
}
