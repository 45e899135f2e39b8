/**
 * Coverage of search indexing (DECISIONS §5): the denominator is every (resource type, search
 * parameter) pair of R4 with an expression. A pair is supported when an example of the corpus
 * yields a row for it, or its synthetic fixture does; pairs that cannot be are listed with a reason
 * in `search-param-unsupported.json`. Run with `UPDATE_SEARCH_FIXTURES=1` to rewrite the synthetic
 * fixtures after changing the generator.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { stringify } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { extractIndexRows } from '../../src/search/extract-index-rows.ts';
import {
  buildSyntheticFixtures, distinguishes, stringifySyntheticFixtures, type SyntheticFixture,
} from '../helpers/synthetic-fixtures/build-synthetic-fixtures.ts';
import { compileExpression } from '../../src/search/extract/compile-expression.ts';
import { isOfType } from '../../src/search/extract/path-node.ts';
import { pruneExpression } from '../../src/search/extract/prune-expression.ts';
import { listExampleResources } from '../helpers/examples-corpus.ts';

const SYNTHETIC_PATH = fileURLToPath(new URL('../fixtures/search-param-synthetic.json', import.meta.url));
const UNSUPPORTED_PATH = fileURLToPath(new URL('../fixtures/search-param-unsupported.json', import.meta.url));

interface Unsupported { resourceType: string; param: string; reason: string }

const model = loadFhirModel();
const synthetic = JSON.parse(readFileSync(SYNTHETIC_PATH, 'utf8')) as SyntheticFixture[];
const unsupported = JSON.parse(readFileSync(UNSUPPORTED_PATH, 'utf8')) as Unsupported[];

/** Every pair of the denominator, as `Type.code`. */
function allPairs(): string[] {
  return model.resourceTypes.flatMap((rt) => model.getSearchParams(rt).filter((sp) => sp.expression).map((sp) => `${rt}.${sp.code}`));
}

function isUnsupported(pair: string): Unsupported | undefined {
  const [rt, code] = [pair.slice(0, pair.indexOf('.')), pair.slice(pair.indexOf('.') + 1)];
  return unsupported.find((u) => (u.resourceType === rt || u.resourceType === '*') && u.param === code);
}

/** Pairs for which some example of the corpus yields a row, with the first such example. */
function examplePairs(): Map<string, string> {
  const found = new Map<string, string>();
  for (const example of listExampleResources()) {
    for (const row of extractIndexRows(example.resource)) {
      const pair = `${example.resource.resourceType as string}.${row.param}`;
      if (!found.has(pair)) found.set(pair, example.name);
    }
  }
  return found;
}

describe('search parameter coverage', () => {
  it('indexes ≥ 95% of the R4 (resource type, parameter) pairs, from examples or synthetic fixtures', () => {
    const fromExamples = examplePairs();
    const fromSynthetic = new Set<string>();
    for (const f of synthetic) {
      const params = new Set(extractIndexRows(f.fixture).map((r) => r.param));
      for (const p of f.params) if (params.has(p)) fromSynthetic.add(`${f.resourceType}.${p}`);
    }
    const pairs = allPairs();
    const missing = pairs.filter((p) => !isUnsupported(p) && !fromExamples.has(p) && !fromSynthetic.has(p));
    const unsupportedCount = pairs.filter((p) => isUnsupported(p)).length;
    const onlySynthetic = pairs.filter((p) => !fromExamples.has(p) && fromSynthetic.has(p)).length;
    const supported = pairs.length - unsupportedCount - missing.length;
    console.log(
      `search parameter coverage: ${supported}/${pairs.length} pairs indexed (${fromExamples.size} from examples, ` +
      `${onlySynthetic} from synthetic fixtures only); ${unsupportedCount} by design elsewhere (${unsupported.map((u) => u.param).join(', ')}); ` +
      `${missing.length} missing`,
    );
    expect(missing).toEqual([]);
    expect((supported + unsupportedCount) / pairs.length).toBeGreaterThanOrEqual(0.95);
  });

  it('has a synthetic fixture for every pair that is not unsupported', () => {
    const listed = new Set(synthetic.flatMap((f) => f.params.map((p) => `${f.resourceType}.${p}`)));
    expect(allPairs().filter((p) => !isUnsupported(p) && !listed.has(p))).toEqual([]);
  });

  it('gives every synthetic fixture a row for each of its parameters that its near-miss lacks', () => {
    const failures = synthetic.flatMap((f) => f.params.filter((p) => !distinguishes(f.fixture, f.nearMiss, p)).map((p) => `${f.resourceType}.${p}`));
    expect(failures).toEqual([]);
  });

  it('keeps every synthetic fixture and near-miss a valid R4 resource', () => {
    const invalid = synthetic.flatMap((f) => [f.fixture, f.nearMiss]
      .map((r) => validateResource(r))
      .filter((issues) => issues.length > 0)
      .map((issues) => `${f.resourceType} [${f.params.join(',')}]: ${issues.map((i) => i.diagnostics).join('; ')}`));
    expect(invalid).toEqual([]);
  });

  it('has committed synthetic fixtures that match the generator (UPDATE_SEARCH_FIXTURES=1 rewrites them)', () => {
    const { fixtures, failures } = buildSyntheticFixtures();
    expect(failures).toEqual([]);
    const text = stringifySyntheticFixtures(fixtures);
    if (process.env.UPDATE_SEARCH_FIXTURES === '1') writeFileSync(SYNTHETIC_PATH, text);
    expect(readFileSync(SYNTHETIC_PATH, 'utf8') === text).toBe(true);
  }, 60_000);

  it('lists unsupported pairs with a reason', () => {
    for (const u of unsupported) expect(u.reason.length).toBeGreaterThan(10);
  });
});

describe('hand-compiled expressions', () => {
  /** Distinct JSON values of a collection (FHIRPath `|` and `where` results compared as sets). */
  const distinctJson = (values: unknown[]): string[] => [...new Set(values.map((v) => JSON.stringify(v)))].sort();

  it('select the same values as the fhirpath engine wherever the engine can evaluate the expression', () => {
    const differences: string[] = [];
    let compared = 0;
    for (const example of listExampleResources()) {
      const rt = example.resource.resourceType as string;
      const plain = JSON.parse(stringify(example.resource) ?? '{}') as Record<string, unknown>;
      const root = { value: plain, type: rt };
      for (const sp of model.getSearchParams(rt)) {
        const expression = sp.expression && !sp.expression.includes('resolve()') ? pruneExpression(sp.expression, (n) => isOfType(rt, n)) : null;
        if (!expression) continue;
        let engine: unknown[];
        try {
          engine = fhirpath.evaluate(plain, expression, undefined, r4model) as unknown[];
        } catch {
          continue; // `X as T` on a collection: the engine refuses what DECISIONS §5 defines as "X when it is a T"
        }
        compared++;
        const mine = compileExpression(expression)([root], { resource: root }).map((n) => n.value);
        if (JSON.stringify(distinctJson(mine)) !== JSON.stringify(distinctJson(engine))) differences.push(`${example.name} ${sp.code}`);
      }
    }
    expect(compared).toBeGreaterThan(20_000);
    // The engine's `|` merges decimals that differ beyond its precision (1e-245 with 1e-22); ours keeps both.
    expect(differences).toEqual(['Observation-decimal.json combo-code-value-concept', 'Observation-decimal.json combo-code-value-quantity']);
  });
});
