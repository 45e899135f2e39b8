/**
 * Builds synthetic search fixtures (DECISIONS §5): for each (resource type, search parameter) pair,
 * a small valid resource that holds a value for the parameter and a near-miss that holds a
 * different value at the same places. Parameters of one type share a fixture while their values do
 * not collide (`value-quantity` and `value-concept` cannot: `value[x]` holds one type), so a type
 * needs one to a few fixtures. Deterministic: the output is committed as
 * `test/fixtures/search-param-synthetic.json` and a test checks it is up to date.
 * https://hl7.org/fhir/R4/search.html
 */
import { loadFhirModel } from '../../../src/fhir/fhir-model.ts';
import type { SearchParamDef } from '../../../src/fhir/model-types.ts';
import { extractIndexRows } from '../../../src/search/extract-index-rows.ts';
import { COMPONENT_ERRATA } from '../../../src/search/extract/compile-search-param.ts';
import { isOfType } from '../../../src/search/extract/path-node.ts';
import { pruneExpression } from '../../../src/search/extract/prune-expression.ts';
import { PlanConflict, planExpression, writePlan, type Patched, type WriteTarget } from './plan-search-value.ts';
import { minimalResource, type Variant } from './sample-values.ts';

type Res = Record<string, unknown>;

/** One fixture: the parameters it serves, the resource, and its near-miss. */
export interface SyntheticFixture {
  resourceType: string;
  params: string[];
  fixture: Res;
  nearMiss: Res;
}

/** A pair no fixture could be built for, with the reason. */
export interface SynthesisFailure {
  resourceType: string;
  param: string;
  reason: string;
}

interface State {
  fixture: Res;
  nearMiss: Res;
  patched: [Patched, Patched];
  params: string[];
}

interface ComponentSpec {
  expression: string;
  def: Pick<SearchParamDef, 'type' | 'target'>;
}

function componentsOf(def: SearchParamDef): ComponentSpec[] {
  if (def.type === 'special') return ['latitude', 'longitude'].map((expression) => ({ expression, def: { type: 'number' } }));
  const model = loadFhirModel();
  const errata = COMPONENT_ERRATA[def.url] ?? {};
  return (def.component ?? []).map((c) => {
    const component = model.getSearchParamByUrl(c.definition);
    if (!component) throw new Error(`unknown component ${c.definition}`);
    return { expression: errata[c.definition] ?? c.expression, def: component };
  });
}

function writeParam(resource: Res, patched: Patched, def: SearchParamDef, resourceType: string, variant: Variant): void {
  const expression = pruneExpression(def.expression ?? '', (name) => isOfType(resourceType, name));
  if (!expression) throw new Error('no branch of the expression applies to this type');
  const root: WriteTarget = { obj: resource, type: resourceType, ptr: '' };
  if (def.type !== 'composite' && def.type !== 'special') {
    writePlan(root, planExpression(expression), { paramType: def.type, targets: def.target, variant }, patched);
    return;
  }
  const base = writePlan(root, planExpression(expression), undefined, patched);
  for (const component of componentsOf(def)) {
    const plan = planExpression(component.expression);
    // `%resource.referenceSeq.chromosome` (MolecularSequence) starts again from the resource.
    const start = plan.fromRoot ? root : base;
    writePlan(start, plan, { paramType: component.def.type, targets: component.def.target, variant }, patched);
  }
}

function rowKeys(resource: Res, param: string): Set<string> {
  return new Set(extractIndexRows(resource).filter((r) => r.param === param).map((r) => JSON.stringify(r)));
}

/** Whether the fixture has a row for `param` that the near-miss has not. */
export function distinguishes(fixture: Res, nearMiss: Res, param: string): boolean {
  const missed = rowKeys(nearMiss, param);
  return [...rowKeys(fixture, param)].some((key) => !missed.has(key));
}

function tryAdd(state: State, def: SearchParamDef, resourceType: string): State | null {
  const next: State = {
    fixture: structuredClone(state.fixture),
    nearMiss: structuredClone(state.nearMiss),
    patched: [new Map(state.patched[0]), new Map(state.patched[1])],
    params: [...state.params, def.code],
  };
  try {
    writeParam(next.fixture, next.patched[0], def, resourceType, 0);
    writeParam(next.nearMiss, next.patched[1], def, resourceType, 1);
  } catch (err) {
    if (err instanceof PlanConflict) return null;
    throw err;
  }
  return distinguishes(next.fixture, next.nearMiss, def.code) ? next : null;
}

function freshState(resourceType: string): State {
  return { fixture: minimalResource(resourceType), nearMiss: minimalResource(resourceType), patched: [new Map(), new Map()], params: [] };
}

function buildForType(resourceType: string, wanted: (code: string) => boolean, failures: SynthesisFailure[]): SyntheticFixture[] {
  const defs = loadFhirModel().getSearchParams(resourceType)
    .filter((d) => d.expression && d.code !== '_id' && wanted(d.code))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  const states: State[] = [];
  for (const def of defs) {
    let placed = false;
    try {
      for (let i = 0; i <= states.length && !placed; i++) {
        const next = tryAdd(states[i] ?? freshState(resourceType), def, resourceType);
        if (next) [states[i], placed] = [next, true];
      }
      if (!placed) failures.push({ resourceType, param: def.code, reason: 'the near-miss cannot differ from the fixture' });
    } catch (err) {
      failures.push({ resourceType, param: def.code, reason: (err as Error).message });
    }
  }
  return states.map((s) => ({ resourceType, params: s.params, fixture: s.fixture, nearMiss: s.nearMiss }));
}

/**
 * Builds fixtures for every pair that `wanted` selects (default: all pairs with an expression,
 * `_id` aside), in resource type order.
 */
export function buildSyntheticFixtures(wanted: (resourceType: string, code: string) => boolean = () => true): {
  fixtures: SyntheticFixture[];
  failures: SynthesisFailure[];
} {
  const fixtures: SyntheticFixture[] = [];
  const failures: SynthesisFailure[] = [];
  for (const rt of loadFhirModel().resourceTypes) fixtures.push(...buildForType(rt, (code) => wanted(rt, code), failures));
  return { fixtures, failures };
}

/** The committed file's text: one fixture per line, so a change shows as a one-line diff. */
export function stringifySyntheticFixtures(fixtures: readonly SyntheticFixture[]): string {
  return `[\n${fixtures.map((f) => JSON.stringify(f)).join(',\n')}\n]\n`;
}
