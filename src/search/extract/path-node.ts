/**
 * Navigation of resource JSON guided by the R4 type model: each value reached by a path carries
 * its FHIR type, so `value[x]` choices, `as T`, `is T` and the value converters know what they hold.
 * https://hl7.org/fhir/R4/json.html  https://hl7.org/fhir/R4/formats.html#choice
 */
import { loadFhirModel, type FhirModel } from '../../fhir/fhir-model.ts';

/**
 * A value reached by a path and its FHIR type: a type name (`HumanName`, `string`, `Patient`) or,
 * for a backbone element, its element path (`Observation.component`).
 */
export interface PathNode {
  value: unknown;
  type: string;
  /** For a `code` element with a required binding: the value set, which gives the code its implicit system. */
  valueSet?: string;
}

/** How one child name maps to JSON keys: one `[key, type]` for a plain element, one per choice type for `[x]`. */
interface ChildInfo {
  entries: readonly (readonly [key: string, type: string])[];
  valueSet?: string;
}

const UNKNOWN: ChildInfo = { entries: [] };
const children = new Map<string, Map<string, ChildInfo>>();
const typeAncestors = new Map<string, readonly string[]>();
const isOfTypeCache = new Map<string, Map<string, boolean>>();

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The node type of one element type: backbone and `Element` groups are named by their path. */
function nodeTypeOf(model: FhirModel, path: string, code: string): string {
  if (code === 'BackboneElement' || code === 'Element') return path;
  if (code.startsWith('http://hl7.org/fhirpath/System.')) return 'string';
  return code;
}

function lookupChild(model: FhirModel, type: string, name: string): ChildInfo {
  const path = `${type}.${name}`;
  const el = model.getElement(path);
  if (el?.contentReference) return { entries: [[name, el.contentReference.replace(/^#/, '')]] };
  if (el?.types) {
    const type = nodeTypeOf(model, path, el.types[0].code);
    const required = type === 'code' && el.binding?.strength === 'required' ? el.binding.valueSet : undefined;
    return { entries: [[name, type]], valueSet: required };
  }
  const choice = model.getElement(`${path}[x]`);
  if (choice?.types) {
    return { entries: choice.types.map((t) => [name + capitalise(t.code), nodeTypeOf(model, path, t.code)] as const) };
  }
  // A type whose elements are inherited (Age from Quantity): look the child up on the base type.
  const base = model.getType(type)?.base;
  if (base && base !== 'Element' && base !== 'BackboneElement') return lookupChild(model, base, name);
  return UNKNOWN;
}

function childInfo(type: string, name: string): ChildInfo {
  let byName = children.get(type);
  if (!byName) children.set(type, (byName = new Map()));
  let info = byName.get(name);
  if (!info) byName.set(name, (info = lookupChild(loadFhirModel(), type, name)));
  return info;
}

function pushValue(out: PathNode[], value: unknown, type: string, valueSet: string | undefined): void {
  if (value === null || value === undefined) return;
  if (type === 'Resource' && typeof value === 'object') {
    const rt = (value as { resourceType?: unknown }).resourceType;
    out.push({ value, type: typeof rt === 'string' ? rt : 'Resource' });
  } else if (valueSet) out.push({ value, type, valueSet });
  else out.push({ value, type });
}

/**
 * Appends to `out` the children called `name` of `node` (a JSON object), flattening arrays;
 * `value[x]` elements yield the present `valueQuantity`, `valueString`, ... with their types.
 */
export function collectChildren(node: PathNode, name: string, out: PathNode[]): void {
  const obj = node.value;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
  const info = childInfo(node.type, name);
  for (const [key, type] of info.entries) {
    const v = (obj as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) pushValue(out, item, type, info.valueSet);
    else pushValue(out, v, type, info.valueSet);
  }
}

function ancestorsOf(type: string): readonly string[] {
  let list = typeAncestors.get(type);
  if (list) return list;
  const model = loadFhirModel();
  const out = [type.toLowerCase()];
  for (let t = model.getType(type)?.base; t; t = model.getType(t)?.base) out.push(t.toLowerCase());
  typeAncestors.set(type, (list = out));
  return list;
}

/**
 * Whether a node of type `type` "is a" `typeName` (FHIRPath `is`/`as`): the type itself or a base
 * type. Names compare case-insensitively, because R4 writes `value.as(DateTime)` in Observation
 * `code-value-date` where the type is `dateTime`; a `FHIR.` or `System.` qualifier is ignored.
 * https://hl7.org/fhirpath/N1/#is-type-specifier
 */
export function isOfType(type: string, typeName: string): boolean {
  let byName = isOfTypeCache.get(type);
  if (!byName) isOfTypeCache.set(type, (byName = new Map()));
  let result = byName.get(typeName);
  if (result === undefined) {
    result = ancestorsOf(type).includes(typeName.replace(/^(FHIR|System)\./, '').toLowerCase());
    byName.set(typeName, result);
  }
  return result;
}
