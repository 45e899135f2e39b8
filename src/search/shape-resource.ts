/**
 * `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary,
 * https://hl7.org/fhir/R4/search.html#elements): trims a stored resource to the requested
 * elements and marks it `SUBSETTED`, as the spec asks.
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { parseFhirJson, stringifyFhirJson } from '../fhir/fhir-json.ts';
import { badRequest, tooCostly } from '../fhir/outcomes.ts';
import type { SummaryMode } from './search-request.ts';

/** What `_summary` and `_elements` ask of each resource returned. */
export interface ResourceShape {
  summary?: SummaryMode;
  elements?: string[];
}

const SUMMARY_MODES: readonly string[] = ['true', 'text', 'data', 'count', 'false'];

/** True for the values `_summary` takes. */
export function isSummaryMode(value: string): value is SummaryMode {
  return SUMMARY_MODES.includes(value);
}

/**
 * The element names of `_elements` (deduplicated); more than `maxValues` is a 400, since each
 * name is tested against every element of every resource returned.
 */
export function parseElements(value: string, maxValues: number): string[] {
  const elements = [...new Set(value.split(',').map((e) => e.trim()).filter(Boolean))];
  if (elements.length > maxValues) throw tooCostly(`_elements names ${elements.length} elements; at most ${maxValues} are allowed`, '_elements');
  return elements;
}

/**
 * `_summary` and `_elements` of a read or vread (raw query values): 400 for a `_summary` a single
 * resource cannot take (`count`, or not a mode at all).
 */
export function parseReadShape(params: { summary?: string; elements?: string }, maxValues: number): ResourceShape {
  const shape: ResourceShape = {};
  if (params.summary !== undefined) {
    if (!isSummaryMode(params.summary) || params.summary === 'count') throw badRequest('_summary on a read must be true, text, data or false', '_summary');
    shape.summary = params.summary;
  }
  if (params.elements !== undefined) shape.elements = parseElements(params.elements, maxValues);
  return shape;
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const ALWAYS = new Set(['resourceType', 'id', 'meta']);

function keepTopLevel(resource: Record<string, unknown>, keep: (name: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(resource)) {
    const base = name.startsWith('_') ? name.slice(1) : name;
    if (ALWAYS.has(base) || keep(base)) out[name] = value;
  }
  const meta = (out.meta ?? {}) as Record<string, unknown>;
  out.meta = { ...meta, tag: [...((meta.tag as unknown[]) ?? []), SUBSETTED] };
  return out;
}

/** Applies `_summary`/`_elements` to a stored resource's JSON text; returns it unchanged when neither applies. */
export function shapeResource(json: string, model: FhirModel, summary: SummaryMode | undefined, elements: string[] | undefined): string {
  if ((!summary || summary === 'false') && !elements?.length) return json;
  const resource = parseFhirJson(json) as Record<string, unknown>;
  const type = String(resource.resourceType);
  const children = model.getChildren(type);
  const nameOf = (path: string) => path.slice(type.length + 1).replace('[x]', '');
  let keep: (name: string) => boolean;
  if (elements?.length) {
    const wanted = new Set(elements.map((e) => e.split('.').pop()!));
    keep = (name) => wanted.has(name) || [...wanted].some((w) => w.endsWith('[x]') && name.startsWith(w.slice(0, -3)));
  } else if (summary === 'true') {
    const summaryNames = children.filter((c) => c.summary).map((c) => nameOf(c.path));
    keep = (name) => summaryNames.some((s) => name === s || (s && name.startsWith(s) && /^[A-Z]/.test(name.slice(s.length))));
  } else if (summary === 'text') {
    const required = new Set(children.filter((c) => c.min > 0).map((c) => nameOf(c.path)));
    keep = (name) => name === 'text' || required.has(name);
  } else if (summary === 'data') {
    keep = (name) => name !== 'text';
  } else {
    return json;
  }
  return stringifyFhirJson(keepTopLevel(resource, keep));
}
