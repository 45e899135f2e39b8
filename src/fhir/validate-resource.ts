/**
 * Validates a FHIR R4 resource in JSON form against the committed model: JSON shapes and
 * cardinality, unknown elements, choice types, primitive formats, required bindings, references,
 * extensions, narrative, and nested resources (contained, Bundle entries, Parameters), returning
 * every issue found. No third-party validator: the walk is driven by precompiled element tables.
 * https://hl7.org/fhir/R4/validation.html  https://hl7.org/fhir/R4/json.html
 */
import { isLosslessNumber } from 'lossless-json';
import { ElementTables, type ChildInfo, type ElementTable } from './element-tables.ts';
import { loadFhirModel } from './fhir-model.ts';
import type { OutcomeIssue } from './outcomes.ts';
import { isCodeInValueSet, matchCoding } from './validate-binding.ts';
import { checkNarrativeDiv } from './validate-narrative.ts';
import { checkPrimitive } from './validate-primitive.ts';
import { checkReference } from './validate-reference.ts';
import type { TimeSlice } from './time-slice.ts';

/** Objects nested deeper than this are refused with one issue (no stack overflow, no hang). */
export const MAX_DEPTH = 100;

/** `CapabilityStatement.format` also allows these short codes (R4 CapabilityStatement.format comment). */
const SHORT_FORMATS = new Set(['xml', 'json', 'ttl']);

interface Context {
  readonly tables: ElementTables;
  readonly issues: OutcomeIssue[];
  depthExceeded: boolean;
}

let sharedTables: ElementTables | undefined;

function tables(): ElementTables {
  sharedTables ??= new ElementTables(loadFhirModel());
  return sharedTables;
}

function report(ctx: Context, code: string, diagnostics: string, path: string): void {
  ctx.issues.push({ severity: 'error', code, diagnostics, expression: [path] });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/**
 * Validates `resource` (parsed JSON; numbers may be `LosslessNumber`s) and returns every issue,
 * each with severity `error`, an R4 issue-type code and a FHIRPath-like `expression`
 * (`Patient.name[0].given[1]`). Empty when valid. When `expectedType` is given the resource must
 * be of that type.
 */
export function validateResource(resource: unknown, expectedType?: string): OutcomeIssue[] {
  const ctx: Context = { tables: tables(), issues: [], depthExceeded: false };
  const rt = isObject(resource) ? resource.resourceType : undefined;
  if (expectedType && typeof rt === 'string' && rt !== expectedType) {
    report(ctx, 'invalid', `resourceType ${rt} does not match the expected type ${expectedType}`, `${rt}.resourceType`);
  }
  walkResource(resource, undefined, ctx, 0, expectedType);
  return ctx.issues;
}

function walkResource(value: unknown, path: string | undefined, ctx: Context, depth: number, expected?: string): void {
  const where = path ?? expected ?? 'Resource';
  if (!isObject(value)) {
    report(ctx, 'structure', 'a resource must be a JSON object', where);
    return;
  }
  const rt = value.resourceType;
  if (typeof rt !== 'string') {
    report(ctx, 'required', 'resourceType is missing', `${where}.resourceType`);
    return;
  }
  if (!ctx.tables.model.isResourceType(rt)) {
    report(ctx, 'invalid', `${JSON.stringify(rt)} is not a known FHIR R4 resource type`, `${where}.resourceType`);
    return;
  }
  walkObject(value, ctx.tables.get(rt), path ?? rt, ctx, depth, true);
}

function walkObject(
  obj: Record<string, unknown>, table: ElementTable, path: string, ctx: Context, depth: number, isResource: boolean,
): void {
  if (depth > MAX_DEPTH) {
    if (!ctx.depthExceeded) report(ctx, 'too-costly', `content is nested more than ${MAX_DEPTH} levels deep`, path);
    ctx.depthExceeded = true;
    return;
  }
  let members = 0;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    members++;
    walkObjectMember(obj, key, table, path, ctx, depth, isResource);
  }
  finishObject(obj, table, path, ctx, members);
}

/** One member of an object: its element looked up in `table` and walked. */
function walkObjectMember(
  obj: Record<string, unknown>, key: string, table: ElementTable, path: string, ctx: Context, depth: number, isResource: boolean,
): void {
  if (isResource && key === 'resourceType') return;
  if (key.charCodeAt(0) === 95 /* _ */) {
    const child = table.children.get(key.slice(1));
    if (child?.kind === 'primitive') walkPrimitiveExtension(obj[key], obj[child.name], child, `${path}.${child.name}`, ctx, depth);
    else report(ctx, 'structure', `unknown element ${key}`, `${path}.${key}`);
    return;
  }
  const child = table.children.get(key);
  if (!child) report(ctx, 'structure', `unknown element ${key}`, `${path}.${key}`);
  else walkMember(obj[key], obj, child, `${path}.${key}`, ctx, depth);
}

/** The checks of an object as a whole, after its members: ele-1, cardinality and choice rules, ext-1. */
function finishObject(obj: Record<string, unknown>, table: ElementTable, path: string, ctx: Context, members: number): void {
  if (members === 0) report(ctx, 'invariant', 'an element must have a value or children (ele-1)', path);
  checkRules(obj, table, path, ctx);
  if (table.key === 'Extension') checkExtension(obj, path, ctx);
}

function walkMember(value: unknown, obj: Record<string, unknown>, child: ChildInfo, path: string, ctx: Context, depth: number): void {
  if (value === null) {
    report(ctx, 'structure', 'null is not allowed here', path);
    return;
  }
  if (!child.isArray) {
    if (Array.isArray(value)) report(ctx, 'structure', `${child.name} has at most one value and must not be an array`, path);
    else walkValue(value, child, path, ctx, depth);
    return;
  }
  if (!Array.isArray(value)) {
    report(ctx, 'structure', `${child.name} repeats and must be a JSON array`, path);
    return;
  }
  if (value.length === 0) report(ctx, 'structure', 'an array must not be empty', path);
  for (let i = 0; i < value.length; i++) walkItem(value, i, obj, child, path, ctx, depth);
}

/** Item `i` of a repeating element's array. */
function walkItem(value: unknown[], i: number, obj: Record<string, unknown>, child: ChildInfo, path: string, ctx: Context, depth: number): void {
  const item = value[i];
  if (item !== null) {
    walkValue(item, child, `${path}[${i}]`, ctx, depth);
    return;
  }
  const extensions = child.kind === 'primitive' ? obj[`_${child.name}`] : undefined;
  if (!Array.isArray(extensions) || extensions[i] == null) {
    report(ctx, 'structure', 'null is only allowed in a primitive array whose _ array has a value at the same index', `${path}[${i}]`);
  }
}

/**
 * {@link validateResource} in time slices: the resource's top-level members, and the items of its
 * top-level arrays, one at a time, pausing for other clients when `slice` is used up. The same
 * issues, in the same order; a resource of `MAX_RESOURCE_BODY` holds the event loop for one
 * member or item at a time rather than for all of it.
 */
export async function validateResourceInSlices(resource: unknown, expectedType: string, slice: TimeSlice): Promise<OutcomeIssue[]> {
  const ctx: Context = { tables: tables(), issues: [], depthExceeded: false };
  const rt = isObject(resource) ? resource.resourceType : undefined;
  if (!isObject(resource) || typeof rt !== 'string' || !ctx.tables.model.isResourceType(rt)) return validateResource(resource, expectedType);
  if (rt !== expectedType) report(ctx, 'invalid', `resourceType ${rt} does not match the expected type ${expectedType}`, `${rt}.resourceType`);
  const table = ctx.tables.get(rt);
  let members = 0;
  for (const key in resource) {
    if (!Object.hasOwn(resource, key)) continue;
    members++;
    const value = resource[key];
    const child = key === 'resourceType' ? undefined : table.children.get(key);
    if (child?.isArray && Array.isArray(value) && value.length > 0) {
      for (let i = 0; i < value.length; i++) {
        walkItem(value, i, resource, child, `${rt}.${key}`, ctx, 0);
        if (slice.due()) await slice.pause();
      }
    } else {
      walkObjectMember(resource, key, table, rt, ctx, 0, true);
      if (slice.due()) await slice.pause();
    }
  }
  finishObject(resource, table, rt, ctx, members);
  return ctx.issues;
}

function walkPrimitiveExtension(value: unknown, primitive: unknown, child: ChildInfo, path: string, ctx: Context, depth: number): void {
  const element = ctx.tables.get('Element');
  if (!child.isArray) {
    if (isObject(value)) walkObject(value, element, path, ctx, depth + 1, false);
    else report(ctx, 'structure', `_${child.name} must be a JSON object with id and/or extension`, path);
    return;
  }
  if (!Array.isArray(value)) {
    report(ctx, 'structure', `_${child.name} must be a JSON array aligned with ${child.name}`, path);
    return;
  }
  if (Array.isArray(primitive) ? primitive.length !== value.length : primitive !== undefined) {
    report(ctx, 'structure', `_${child.name} must have as many items as ${child.name}`, path);
  }
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (item === null) {
      if (!Array.isArray(primitive) || primitive[i] == null) report(ctx, 'structure', 'a value or an extension is needed at each index', `${path}[${i}]`);
    } else if (isObject(item)) walkObject(item, element, `${path}[${i}]`, ctx, depth + 1, false);
    else report(ctx, 'structure', `_${child.name} items must be JSON objects or null`, `${path}[${i}]`);
  }
}

function walkValue(value: unknown, child: ChildInfo, path: string, ctx: Context, depth: number): void {
  if (child.kind === 'primitive') {
    checkPrimitiveValue(value, child, path, ctx);
    return;
  }
  if (child.kind === 'resource') {
    walkResource(value, path, ctx, depth + 1);
    return;
  }
  if (!isObject(value)) {
    report(ctx, 'structure', `${child.name} must be a JSON object (${child.type})`, path);
    return;
  }
  walkObject(value, ctx.tables.get(child.tableKey!), path, ctx, depth + 1, false);
  if (child.type === 'Reference' && typeof value.reference === 'string') {
    const problem = checkReference(value.reference, child.targets, ctx.tables.model.isResourceType);
    if (problem) report(ctx, problem.code, problem.message, `${path}.reference`);
  }
  if (child.binding) checkCodedBinding(value, child, path, ctx);
}

function checkPrimitiveValue(value: unknown, child: ChildInfo, path: string, ctx: Context): void {
  // A Binary's own data (not one nested in a Bundle) is stored as bytes, bounded by the body limits and MAX_BINARY.
  const problem = checkPrimitive(child.type, value, path === 'Binary.data' ? Infinity : undefined);
  if (problem) {
    report(ctx, problem.code, problem.message, path);
    return;
  }
  if (child.type === 'xhtml') {
    const message = checkNarrativeDiv(value as string);
    if (message) report(ctx, 'invariant', message, path);
  }
  if (child.binding && typeof value === 'string' && !isCodeInValueSet(child.binding, value)
    && !(child.element.path === 'CapabilityStatement.format' && SHORT_FORMATS.has(value))) {
    report(ctx, 'code-invalid', `${JSON.stringify(value)} is not in the required value set ${child.binding.url}`, path);
  }
}

function checkCodedBinding(value: Record<string, unknown>, child: ChildInfo, path: string, ctx: Context): void {
  const vs = child.binding!;
  if (child.type === 'Coding' || child.type === 'Quantity') {
    if (matchCoding(vs, value.system, value.code) === 'out') {
      report(ctx, 'code-invalid', `${JSON.stringify(value.code)} is not in the required value set ${vs.url}`, `${path}.code`);
    }
  } else if (child.type === 'CodeableConcept' && Array.isArray(value.coding) && value.coding.length) {
    const matches = value.coding.map((c) => (isObject(c) ? matchCoding(vs, c.system, c.code) : 'other'));
    if (!matches.includes('in')) {
      const codes = value.coding.map((c) => (isObject(c) ? `${c.system ?? ''}|${c.code ?? ''}` : '?')).join(', ');
      report(ctx, 'code-invalid', `no coding (${codes}) is from the required value set ${vs.url}`, `${path}.coding`);
    }
  }
}

function checkRules(obj: Record<string, unknown>, table: ElementTable, path: string, ctx: Context): void {
  for (const rule of table.rules) {
    let variants = 0;
    let count = 0;
    for (let i = 0; i < rule.names.length; i++) {
      const v = obj[rule.names[i]];
      const ext = obj[rule.extensionNames[i]];
      if (v === undefined && ext === undefined) continue;
      variants++;
      count = Math.max(count, Array.isArray(v) ? v.length : Array.isArray(ext) ? ext.length : 1);
    }
    const label = `${path}.${rule.label}`;
    if (rule.isChoice && variants > 1) {
      report(ctx, 'structure', `only one of ${rule.names.filter((n) => n in obj || `_${n}` in obj).join(', ')} is allowed`, label);
    }
    const { min, max } = rule.element;
    if (count < min) report(ctx, 'required', `${rule.label} is required (min ${min}, found ${count})`, label);
    else if (max !== '*' && max !== '1' && count > Number(max)) report(ctx, 'structure', `${rule.label} allows at most ${max} (found ${count})`, label);
  }
}

function checkExtension(ext: Record<string, unknown>, path: string, ctx: Context): void {
  let hasValue = false;
  for (const key in ext) if (key.startsWith('value') || key.startsWith('_value')) hasValue = true;
  const hasExtension = ext.extension !== undefined;
  if (hasValue && hasExtension) {
    report(ctx, 'invariant', 'an extension must have either a value[x] or nested extensions, not both (ext-1)', path);
  } else if (!hasValue && !hasExtension) {
    report(ctx, 'invariant', 'an extension must have a value[x] or nested extensions (ext-1)', path);
  }
}
