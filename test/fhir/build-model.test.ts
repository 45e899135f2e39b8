import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFhirModel, stringifyFhirModel } from '../../src/fhir/build-model.ts';
import { MODEL_PATH } from '../../src/fhir/fhir-model.ts';
import { createModelValueSetExpander } from '../../src/terminology/model-value-sets.ts';
import { readModelSources } from '../../src/fhir/model-sources.ts';

describe('committed FHIR model', () => {
  it('is up to date with the definitions package (run `npm run codegen` if this fails)', () => {
    const regenerated = stringifyFhirModel(buildFhirModel(readModelSources(), createModelValueSetExpander));
    const committed = readFileSync(MODEL_PATH, 'utf8');
    // compare sizes first so a stale file fails with a short message, then byte for byte
    expect(committed.length).toBe(regenerated.length);
    expect(committed === regenerated).toBe(true);
  }, 60_000);

  it('serialises deterministically with sorted keys', () => {
    const a = stringifyFhirModel({ fhirVersion: '4.0.1', types: { B: { kind: 'resource', elements: [] }, A: { kind: 'resource', elements: [] } }, valueSets: {}, searchParams: [], compartments: {} });
    expect(a.indexOf('"A"')).toBeLessThan(a.indexOf('"B"'));
    expect(JSON.parse(a).types.A.kind).toBe('resource');
  });
});
