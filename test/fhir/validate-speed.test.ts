import { readFileSync } from 'node:fs';
import { parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { examplesDir } from '../helpers/examples-corpus.ts';

describe('validateResource speed', () => {
  it('validates a typical Patient in well under 0.1 ms after warm-up', () => {
    const patient = parse(readFileSync(`${examplesDir()}/Patient-example.json`, 'utf8'));
    for (let i = 0; i < 2000; i++) validateResource(patient);
    const runs = 20_000;
    const start = performance.now();
    for (let i = 0; i < runs; i++) validateResource(patient);
    const perCall = (performance.now() - start) / runs;
    console.log(`validateResource(Patient-example): ${(perCall * 1000).toFixed(1)} µs per call`);
    // The target is < 0.1 ms; the bound leaves room for a loaded CI machine running files in parallel.
    expect(perCall).toBeLessThan(0.3);
  });
});
