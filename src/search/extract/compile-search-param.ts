/**
 * Compiles one SearchParameter for one resource type into a row extractor: its expression (only
 * the union branches that can apply to that type), and the converter of its type. Composite
 * parameters combine the rows of their components taken from the same element; Location `near`
 * (type special) is indexed as a composite of `latitude` and `longitude` numbers.
 * https://hl7.org/fhir/R4/searchparameter.html  https://hl7.org/fhir/R4/search.html#composite
 */
import { loadFhirModel } from '../../fhir/fhir-model.ts';
import type { SearchParamDef } from '../../fhir/model-types.ts';
import type { CompositeRow, IndexRow } from '../index-rows.ts';
import { compileExpression, type EvalEnv, type PathEvaluator } from './compile-expression.ts';
import type { ConvertContext } from './convert-context.ts';
import { convertDate } from './convert-date.ts';
import { convertNumber, convertQuantity } from './convert-quantity.ts';
import { convertReference } from './convert-reference.ts';
import { convertString } from './convert-string.ts';
import { convertToken } from './convert-token.ts';
import { convertUri } from './convert-uri.ts';
import { isOfType, type PathNode } from './path-node.ts';
import { pruneExpression } from './prune-expression.ts';

/**
 * Extracts one parameter's rows from a resource into `out`, stopping as soon as `out` holds more
 * than `maxRows` (the caller refuses such a resource, so the rest would be wasted work).
 */
export type ParamExtractor = (root: PathNode, env: EvalEnv, baseUrl: string | undefined, out: IndexRow[], maxRows: number) => void;

type Converter = (node: PathNode, ctx: ConvertContext, out: IndexRow[]) => void;
type SimpleType = Exclude<SearchParamDef['type'], 'composite' | 'special'>;

const CONVERTERS: Record<SimpleType, Converter> = {
  string: convertString,
  token: convertToken,
  date: convertDate,
  number: convertNumber,
  quantity: convertQuantity,
  reference: convertReference,
  uri: convertUri,
};

/**
 * R4 errata in component expressions: DocumentReference `relationship` pairs `relatesto`
 * (reference) with `code` and `relation` (token) with `target`; R4B swapped them back.
 */
export const COMPONENT_ERRATA: Record<string, Record<string, string>> = {
  'http://hl7.org/fhir/SearchParameter/DocumentReference-relationship': {
    'http://hl7.org/fhir/SearchParameter/DocumentReference-relatesto': 'target',
    'http://hl7.org/fhir/SearchParameter/DocumentReference-relation': 'code',
  },
};

interface Component {
  code: string;
  evaluate: PathEvaluator;
  convert: Converter;
}

function simpleExtractor(def: SearchParamDef, evaluate: PathEvaluator, convert: Converter): ParamExtractor {
  const ctx: ConvertContext = { param: def.code, targets: def.target };
  return (root, env, baseUrl, out, maxRows) => {
    const nodes = evaluate([root], env);
    if (nodes.length === 0) return;
    const c = baseUrl === undefined ? ctx : { ...ctx, baseUrl };
    for (const node of nodes) {
      convert(node, c, out);
      if (out.length > maxRows) return;
    }
  };
}

/** The rows of every component for one element; null as soon as one component has none. */
function componentRows(components: readonly Component[], node: PathNode, env: EvalEnv, baseUrl: string | undefined): IndexRow[][] | null {
  const all: IndexRow[][] = [];
  for (const component of components) {
    const rows: IndexRow[] = [];
    const ctx: ConvertContext = { param: component.code, baseUrl };
    for (const value of component.evaluate([node], env)) component.convert(value, ctx, rows);
    // A text-only token row (CodeableConcept.text) cannot anchor a `system|code$value` match.
    const usable = rows.filter((r) => r.kind !== 'token' || r.code !== null);
    if (usable.length === 0) return null;
    all.push(usable);
  }
  return all;
}

/** One CompositeRow per combination of component rows (their cartesian product). */
function pushCombinations(param: string, codes: readonly string[], rows: IndexRow[][], out: IndexRow[], maxRows: number): void {
  const pick = (i: number, acc: Record<string, Exclude<IndexRow, CompositeRow>>): void => {
    if (out.length > maxRows) return;
    if (i === rows.length) {
      out.push({ kind: 'composite', param, components: { ...acc } });
      return;
    }
    for (const row of rows[i]) {
      acc[codes[i]] = row as Exclude<IndexRow, CompositeRow>;
      pick(i + 1, acc);
    }
  };
  pick(0, {});
}

function compositeExtractor(def: SearchParamDef, evaluate: PathEvaluator, components: Component[]): ParamExtractor {
  const codes = components.map((c) => c.code);
  return (root, env, baseUrl, out, maxRows) => {
    for (const node of evaluate([root], env)) {
      const rows = componentRows(components, node, env, baseUrl);
      if (rows) pushCombinations(def.code, codes, rows, out, maxRows);
      if (out.length > maxRows) return;
    }
  };
}

function compileComponents(def: SearchParamDef): Component[] | null {
  const model = loadFhirModel();
  const errata = COMPONENT_ERRATA[def.url] ?? {};
  const out: Component[] = [];
  for (const c of def.component ?? []) {
    const component = model.getSearchParamByUrl(c.definition);
    if (!component || component.type === 'composite' || component.type === 'special') return null;
    const expression = errata[c.definition] ?? c.expression;
    out.push({ code: component.code, evaluate: compileExpression(expression), convert: CONVERTERS[component.type] });
  }
  return out.length > 0 ? out : null;
}

/** Location `near`: the position as a composite of two numbers (`latitude`, `longitude`). */
function positionComponents(): Component[] {
  return ['latitude', 'longitude'].map((code) => ({ code, evaluate: compileExpression(code), convert: convertNumber }));
}

/**
 * Compiles `def` for resources of type `resourceType`; null when nothing in its expression can
 * apply to that type (or the parameter has no expression, or is `_id`, which the id column covers).
 */
export function compileSearchParam(def: SearchParamDef, resourceType: string): ParamExtractor | null {
  if (!def.expression || def.code === '_id') return null;
  const expression = pruneExpression(def.expression, (name) => isOfType(resourceType, name));
  if (expression === null) return null;
  const evaluate = compileExpression(expression);
  if (def.type === 'composite') {
    const components = compileComponents(def);
    return components ? compositeExtractor(def, evaluate, components) : null;
  }
  if (def.type === 'special') {
    return def.code === 'near' ? compositeExtractor(def, evaluate, positionComponents()) : null;
  }
  return simpleExtractor(def, evaluate, CONVERTERS[def.type]);
}
