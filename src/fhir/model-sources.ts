/**
 * Reads the definitions bundles of `hl7.fhir.r4.examples@4.0.1` that the model is derived from.
 * Used by `npm run codegen` and the model staleness test only, never at server start.
 * https://hl7.org/fhir/R4/downloads.html
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ModelSources } from './build-model.ts';

/** Directory of the installed examples package. */
export function examplesPackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
}

/** Parses the bundles named in {@link ModelSources}. */
export function readModelSources(dir = examplesPackageDir()): ModelSources {
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  return {
    resources: read('Bundle-resources.json'),
    types: read('Bundle-types.json'),
    searchParams: read('Bundle-searchParams.json'),
    terminology: ['Bundle-valuesets.json', 'Bundle-v3-valuesets.json', 'Bundle-v2-valuesets.json'].map(read),
    expansions: read('Bundle-valueset-expansions.json'),
    compartments: ['patient', 'encounter', 'relatedPerson', 'practitioner', 'device'].map((c) => read(`CompartmentDefinition-${c}.json`)),
  };
}
