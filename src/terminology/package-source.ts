/**
 * A {@link TerminologySource} over CodeSystem and ValueSet resources in memory (the definitions
 * package's bundles at codegen time, the generated files at run time): the first resource of a URL
 * wins; a version, when asked for, must match. Published expansions, where given, are attached
 * to their value sets (or stand alone) so the expander can fall back to them.
 */
import type { CodeSystemResource, TerminologySource, ValueSetResource } from './terminology-types.ts';

/** A loosely typed FHIR resource as read from JSON. */
export type RawResource = Record<string, any>;

/** Indexes `resources` (and `expansions`, ValueSets carrying `expansion.contains`) by URL. */
export function createPackageSource(resources: readonly RawResource[], expansions: readonly RawResource[] = []): TerminologySource {
  const codeSystems = new Map<string, CodeSystemResource>();
  const valueSets = new Map<string, ValueSetResource>();
  for (const r of resources) {
    if (r?.resourceType === 'CodeSystem' && typeof r.url === 'string' && !codeSystems.has(r.url)) codeSystems.set(r.url, r as CodeSystemResource);
    if (r?.resourceType === 'ValueSet' && typeof r.url === 'string' && !valueSets.has(r.url)) valueSets.set(r.url, r as ValueSetResource);
  }
  for (const r of expansions) {
    if (r?.resourceType !== 'ValueSet' || typeof r.url !== 'string' || !r.expansion) continue;
    const vs = valueSets.get(r.url);
    if (!vs) valueSets.set(r.url, r as ValueSetResource);
    else if (!vs.expansion) valueSets.set(r.url, { ...vs, expansion: r.expansion });
  }
  const matching = <T extends { version?: string }>(found: T | undefined, version?: string) =>
    (found && (version === undefined || found.version === version) ? found : undefined);
  return {
    codeSystem: (url, version) => matching(codeSystems.get(url), version),
    valueSet: (url, version) => matching(valueSets.get(url), version),
  };
}
