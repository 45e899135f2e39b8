import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { listExampleResources, type ExampleResource } from '../helpers/examples-corpus.ts';

interface InvalidExample { file: string; entry?: number; reason: string; expression: string }

const invalid: InvalidExample[] = JSON.parse(
  readFileSync(new URL('../fixtures/invalid-examples.json', import.meta.url), 'utf8'),
);
const corpus = listExampleResources();
const keyOf = (x: { file: string; entry?: number }) => `${x.file}#${x.entry ?? ''}`;
const invalidByKey = new Map(invalid.map((x) => [keyOf(x), x]));

const summarise = (item: ExampleResource) =>
  validateResource(item.resource).map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('R4 examples corpus', () => {
  it('holds the example files and collection-Bundle entries, without definitions', () => {
    expect(corpus.length).toBeGreaterThan(900);
    expect(corpus.some((x) => x.name === 'Patient-example.json')).toBe(true);
    expect(corpus.some((x) => x.entry !== undefined)).toBe(true);
    expect(corpus.some((x) => x.resource.resourceType === 'StructureDefinition')).toBe(false);
  });

  it('lists only examples that exist in the corpus, each once', () => {
    const keys = new Set(corpus.map(keyOf));
    for (const x of invalid) expect(keys.has(keyOf(x)), keyOf(x)).toBe(true);
    expect(invalidByKey.size).toBe(invalid.length);
  });

  it.each(corpus.filter((x) => !invalidByKey.has(keyOf(x))).map((x) => [x.name, x] as const))(
    '%s validates with no errors',
    (_name, item) => {
      expect(summarise(item)).toEqual([]);
    },
  );

  it.each(invalid.map((x) => [keyOf(x), x] as const))('%s is reported invalid where it is wrong', (key, listed) => {
    const item = corpus.find((x) => keyOf(x) === key)!;
    const issues = validateResource(item.resource);
    expect(issues.map((i) => i.expression?.[0]), listed.reason).toContain(listed.expression);
    expect(issues.every((i) => i.severity === 'error')).toBe(true);
  });
});
