/**
 * The reverse of a search expression: where in a resource a value must be written for the
 * expression to find it. `Observation.subject.where(resolve() is Patient)` becomes "write a
 * Reference to a Patient at `subject`"; `(Observation.value as Quantity)` "write `valueQuantity`";
 * `Patient.telecom.where(system='email')` "append a telecom whose system is email". Used to build
 * synthetic search fixtures. https://hl7.org/fhir/R4/searchparameter.html#expression
 */
import { loadFhirModel } from '../../../src/fhir/fhir-model.ts';
import type { ElementDef, SearchParamDef } from '../../../src/fhir/model-types.ts';
import { parseFhirPath, type PathAst } from '../../../src/search/extract/parse-fhir-path.ts';
import { elementNodeType, minimalElement, sampleValue, type Variant } from './sample-values.ts';

/** One step of a write plan: an element name with the constraints the expression puts on it. */
export interface PlanSegment {
  name: string;
  as?: string;
  where: [string, string | number | boolean][];
  refType?: string;
  index?: number;
}

/** Where to write: from the resource root (`fromRoot`) or from the element a composite iterates. */
export interface WritePlan {
  fromRoot: boolean;
  segments: PlanSegment[];
}

/** A place being written: an object, its node type and its pointer (for conflict checks). */
export interface WriteTarget {
  obj: Record<string, unknown>;
  type: string;
  ptr: string;
}

/** Pointers of values written by earlier parameters of the same fixture (JSON of the value). */
export type Patched = Map<string, string>;

/** Raised when a value cannot be written without changing one another parameter needs. */
export class PlanConflict extends Error {}

function last(plan: WritePlan): PlanSegment {
  const seg = plan.segments[plan.segments.length - 1];
  if (!seg) throw new Error('constraint before any element');
  return seg;
}

function typeName(ast: PathAst): string | undefined {
  if (ast.k === 'name') return ast.name;
  if (ast.k === 'invoke' && ast.member.k === 'name') return ast.member.name;
  return undefined;
}

function linearizeFn(ast: Extract<PathAst, { k: 'fn' }>, plan: WritePlan): void {
  const arg = ast.args[0];
  if ((ast.name === 'as' || ast.name === 'ofType') && arg) last(plan).as = typeName(arg);
  else if (ast.name === 'where' && arg?.k === 'type' && arg.op === 'is') last(plan).refType = arg.typeName;
  else if (ast.name === 'where' && arg?.k === 'binop' && arg.op === '=' && arg.left.k === 'name' && arg.right.k === 'lit') {
    last(plan).where.push([arg.left.name, arg.right.value]);
  } else if (ast.name === 'extension' && arg?.k === 'lit') plan.segments.push({ name: 'extension', where: [['url', arg.value]] });
}

function linearize(ast: PathAst, plan: WritePlan): void {
  switch (ast.k) {
    case 'name':
      if (/^[A-Z]/.test(ast.name)) plan.fromRoot = true;
      else plan.segments.push({ name: ast.name, where: [] });
      return;
    case 'invoke':
      linearize(ast.target, plan);
      return linearize(ast.member, plan);
    case 'fn':
      return linearizeFn(ast, plan);
    case 'type':
      linearize(ast.target, plan);
      if (ast.op === 'as') last(plan).as = ast.typeName;
      return;
    case 'index':
      linearize(ast.target, plan);
      if (ast.index.k === 'lit' && typeof ast.index.value === 'number') last(plan).index = ast.index.value;
      return;
    case 'binop':
      return linearize(ast.left, plan);
    case 'var':
      plan.fromRoot = true;
      plan.segments = [];
      return;
    case 'lit':
      return;
  }
}

/** The write plan of an expression's first union branch. */
export function planExpression(expression: string): WritePlan {
  const plan: WritePlan = { fromRoot: false, segments: [] };
  linearize(parseFhirPath(expression), plan);
  return plan;
}

/** Types a converter of each parameter type accepts, in order of preference, for choice elements. */
const PREFERRED: Record<SearchParamDef['type'], string[]> = {
  string: ['string', 'HumanName', 'Address', 'markdown'],
  token: ['CodeableConcept', 'Coding', 'Identifier', 'code', 'boolean', 'ContactPoint', 'string', 'uri', 'id'],
  date: ['dateTime', 'date', 'instant', 'Period', 'Timing'],
  number: ['decimal', 'integer', 'positiveInt', 'unsignedInt'],
  quantity: ['Quantity', 'Age', 'Duration', 'Money', 'Range', 'Count', 'Distance', 'SimpleQuantity'],
  reference: ['Reference', 'canonical', 'uri', 'Resource'],
  uri: ['uri', 'url', 'canonical', 'oid', 'uuid'],
  composite: [],
  special: [],
};

function findElement(type: string, name: string): ElementDef {
  const model = loadFhirModel();
  for (let t: string | undefined = type; t; t = model.getType(t)?.base) {
    const el = model.getElement(`${t}.${name}`) ?? model.getElement(`${t}.${name}[x]`);
    if (el) return el;
  }
  throw new Error(`no element ${type}.${name}`);
}

function chooseType(el: ElementDef, seg: PlanSegment, paramType: SearchParamDef['type'] | undefined): string | undefined {
  const codes = (el.types ?? []).map((t) => t.code);
  if (seg.as) return codes.find((c) => c.toLowerCase() === seg.as!.toLowerCase()) ?? seg.as;
  if (!paramType) return codes[0];
  return PREFERRED[paramType].find((c) => codes.includes(c)) ?? codes[0];
}

/** What a leaf write needs to know: the parameter's type and targets, and the variant. */
export interface LeafSpec {
  paramType?: SearchParamDef['type'];
  targets?: string[];
  variant: Variant;
}

function leafValue(el: ElementDef, nodeType: string, seg: PlanSegment, leaf: LeafSpec): unknown {
  const refType = seg.refType ?? (nodeType === 'Resource' ? leaf.targets?.[0] : undefined);
  let value = nodeType.includes('.') ? minimalElement(nodeType, 1, leaf.paramType !== undefined) : sampleValue({ type: nodeType, element: el, refType, variant: leaf.variant });
  if (nodeType === 'Resource' && value && typeof value === 'object') value = { ...value, id: leaf.variant === 1 ? 'bravo' : 'alpha' };
  if (seg.where.length > 0 && value && typeof value === 'object') value = { ...value, ...Object.fromEntries(seg.where) };
  return value;
}

function writeChoice(obj: Record<string, unknown>, el: ElementDef, name: string, key: string, ptr: string, patched: Patched): void {
  if (!el.path.endsWith('[x]')) return;
  const choicePtr = `${ptr}/${name}[x]`;
  const previous = patched.get(choicePtr);
  if (previous !== undefined && previous !== key) throw new PlanConflict(choicePtr);
  patched.set(choicePtr, key);
  for (const t of el.types ?? []) {
    const other = name + t.code.charAt(0).toUpperCase() + t.code.slice(1);
    if (other !== key) delete obj[other];
  }
}

function setOnce(obj: Record<string, unknown>, key: string, value: unknown, ptr: string, patched: Patched): void {
  const json = JSON.stringify(value);
  const previous = patched.get(ptr);
  if (previous !== undefined && previous !== json) throw new PlanConflict(ptr);
  patched.set(ptr, json);
  obj[key] = value;
}

/** Writes one segment; returns the container reached (for a non-final segment) or null. */
function writeSegment(target: WriteTarget, seg: PlanSegment, final: boolean, leaf: LeafSpec, patched: Patched): WriteTarget | null {
  const el = findElement(target.type, seg.name);
  const code = chooseType(el, seg, final ? leaf.paramType : undefined);
  const key = el.path.endsWith('[x]') && code ? seg.name + code.charAt(0).toUpperCase() + code.slice(1) : seg.name;
  const nodeType = elementNodeType(el, code);
  writeChoice(target.obj, el, seg.name, key, target.ptr, patched);
  const isArray = el.max !== '1';
  const value = final ? leafValue(el, nodeType, seg, leaf) : reuseOrCreate(target, key, nodeType, isArray, seg);
  if (isArray) {
    const list = (target.obj[key] as unknown[] | undefined) ?? [];
    if (seg.index !== undefined && list.length !== seg.index) throw new PlanConflict(`${target.ptr}/${key}[${seg.index}]`);
    target.obj[key] = [...list, value];
    const ptr = `${target.ptr}/${key}#${list.length}`;
    return final ? null : { obj: value as Record<string, unknown>, type: nodeType, ptr };
  }
  const ptr = `${target.ptr}/${key}`;
  if (final) setOnce(target.obj, key, value, ptr, patched);
  else {
    if (patched.has(ptr) && patched.get(ptr) !== '{}') throw new PlanConflict(ptr);
    patched.set(ptr, '{}');
    target.obj[key] = value;
    for (const [field, v] of seg.where) setOnce(value as Record<string, unknown>, field, v, `${ptr}/${field}`, patched);
  }
  return final ? null : { obj: value as Record<string, unknown>, type: nodeType, ptr };
}

function reuseOrCreate(target: WriteTarget, key: string, nodeType: string, isArray: boolean, seg: PlanSegment): Record<string, unknown> {
  const existing = target.obj[key];
  if (!isArray && existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Record<string, unknown>;
  // The caller writes a child into it next, so only required children are needed.
  const fresh = minimalElement(nodeType, 1, false);
  return isArray ? { ...fresh, ...Object.fromEntries(seg.where) } : fresh;
}

/**
 * Writes a value for `plan` into `start` (a clone the caller may discard on {@link PlanConflict}).
 * With `leaf` undefined the last segment is an element to iterate (a composite's base): it is
 * created and returned.
 */
export function writePlan(start: WriteTarget, plan: WritePlan, leaf: LeafSpec | undefined, patched: Patched): WriteTarget {
  let target = start;
  plan.segments.forEach((seg, i) => {
    const final = leaf !== undefined && i === plan.segments.length - 1;
    const next = writeSegment(target, seg, final, leaf ?? { variant: 0 }, patched);
    if (next) target = next;
  });
  return target;
}
