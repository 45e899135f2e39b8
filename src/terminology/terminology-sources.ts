/**
 * Reads the terminology bundles of `hl7.fhir.r4.examples@4.0.1` (a dev dependency). Used by
 * `npm run codegen` and the staleness test only, never by the server.
 * https://hl7.org/fhir/R4/downloads.html
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { examplesPackageDir } from '../fhir/model-sources.ts';
import type { RawResource } from './package-source.ts';

/** The definitions bundles holding CodeSystems and ValueSets. */
export const TERMINOLOGY_BUNDLES = ['Bundle-valuesets.json', 'Bundle-v3-valuesets.json', 'Bundle-v2-valuesets.json'];

/** The package's CodeSystems and ValueSets, and its published expansions. */
export function readTerminologySources(dir = examplesPackageDir()): { resources: RawResource[]; expansions: RawResource[] } {
  const entries = (name: string): RawResource[] =>
    ((JSON.parse(readFileSync(join(dir, name), 'utf8')) as RawResource).entry ?? []).map((e: RawResource) => e.resource).filter(Boolean);
  return { resources: TERMINOLOGY_BUNDLES.flatMap(entries), expansions: entries('Bundle-valueset-expansions.json') };
}
