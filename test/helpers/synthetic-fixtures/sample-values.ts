/**
 * Sample values for synthetic search fixtures (DECISIONS §5: "Where the examples hold no value for
 * a pair, add a synthetic fixture that does"): a value of any R4 type in three variants — the
 * `default` that fills required elements, `0` for the fixture and `1` for its near-miss — and
 * minimal resources that pass the validator (required elements, required bindings).
 * Used by the search tests to (re)generate `test/fixtures/search-param-synthetic.json`.
 * https://hl7.org/fhir/R4/datatypes.html  https://hl7.org/fhir/R4/search.html
 */
import { loadFhirModel } from '../../../src/fhir/fhir-model.ts';
import type { ElementDef } from '../../../src/fhir/model-types.ts';

/** `default` fills required elements; `0` is the fixture's value; `1` the near-miss's. */
export type Variant = 'default' | 0 | 1;

/** What to make a sample of. */
export interface SampleSpec {
  /** A type code (`CodeableConcept`, `date`) or a backbone element path (`Observation.component`). */
  type: string;
  element?: ElementDef;
  /** For a Reference: the target type to point to. */
  refType?: string;
  variant: Variant;
}

const WORDS = { default: 'default', 0: 'alpha', 1: 'bravo' } as const;
const DAYS = { default: '2000-01-01', 0: '2021-03-04', 1: '2022-05-06' } as const;
const NUMBERS = { default: 1, 0: 11, 1: 22 } as const;
const FORMAT_CODES: Record<string, string[]> = {
  'mime-type': ['text/plain', 'application/json', 'image/png'],
  currency: ['EUR', 'USD', 'JPY'],
  ucum: ['mg', 'kg', 'mL'],
  'loinc-answer': ['LA6576-8', 'LA6577-6', 'LA6578-4'],
};
const SKIPPED_CHILDREN = new Set(['id', 'extension', 'modifierExtension', 'implicitRules', 'language', 'contained', 'text']);

function index(variant: Variant): number {
  return variant === 'default' ? 0 : variant + 1;
}

/** The codes of a required binding, as `[system, code]`, or null when the element has none. */
function boundCodes(element: ElementDef | undefined): [string | undefined, string][] | null {
  const url = element?.binding?.strength === 'required' ? element.binding.valueSet : undefined;
  const vs = url ? loadFhirModel().getValueSet(url) : undefined;
  if (!vs) return null;
  if (vs.format && FORMAT_CODES[vs.format]) return FORMAT_CODES[vs.format].map((c) => [undefined, c]);
  const all = Object.entries(vs.codes ?? {}).flatMap(([system, codes]) => codes.map((c): [string, string] => [system, c]));
  return all.length > 0 ? all : null;
}

function pickCode(element: ElementDef | undefined, variant: Variant): [string | undefined, string] | null {
  const codes = boundCodes(element);
  return codes ? codes[index(variant) % codes.length] : null;
}

function quantity(variant: Variant, offset = 0): Record<string, unknown> {
  return { value: NUMBERS[variant] + offset, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' };
}

function primitive(type: string, element: ElementDef | undefined, variant: Variant): unknown {
  const word = WORDS[variant];
  switch (type) {
    case 'boolean': return variant === 0;
    case 'integer': case 'positiveInt': case 'unsignedInt': return NUMBERS[variant];
    case 'decimal': return NUMBERS[variant] + 0.5;
    case 'code': return pickCode(element, variant)?.[1] ?? word;
    case 'uri': case 'url': case 'canonical': return `http://example.org/fhir/${word}`;
    case 'oid': return `urn:oid:1.2.3.${index(variant)}`;
    case 'uuid': return `urn:uuid:00000000-0000-4000-8000-00000000000${index(variant)}`;
    case 'date': return DAYS[variant];
    case 'dateTime': case 'instant': return `${DAYS[variant]}T10:20:30Z`;
    case 'time': return '10:20:30';
    case 'base64Binary': return 'AAAA';
    case 'xhtml': return '<div xmlns="http://www.w3.org/1999/xhtml">x</div>';
    case 'string': case 'markdown': case 'id': return word;
    default: return undefined;
  }
}

function coding(element: ElementDef | undefined, variant: Variant): Record<string, unknown> {
  const bound = pickCode(element, variant);
  if (bound) return bound[0] ? { system: bound[0], code: bound[1] } : { code: bound[1] };
  return { system: 'http://example.org/codes', code: WORDS[variant] };
}

function referenceTo(spec: SampleSpec): Record<string, unknown> {
  const targets = spec.element?.types?.find((t) => t.code === 'Reference')?.targets ?? [];
  const type = spec.refType ?? (targets.includes('Patient') ? 'Patient' : targets.find((t) => t !== 'Resource') ?? 'Patient');
  return { reference: `${type}/${WORDS[spec.variant]}` };
}

function complex(spec: SampleSpec): unknown {
  const { variant, element } = spec;
  const word = WORDS[variant];
  switch (spec.type) {
    case 'CodeableConcept':
      return variant === 'default' && !boundCodes(element) ? { text: 'default' } : { coding: [coding(element, variant)] };
    case 'Coding': return coding(element, variant);
    case 'Identifier': return { system: 'http://example.org/ids', value: word };
    case 'ContactPoint': return { system: 'phone', value: word };
    case 'HumanName': return { family: word };
    case 'Address': return { city: word };
    case 'Quantity': case 'Age': case 'Duration': case 'Distance': case 'Count': case 'SimpleQuantity': return quantity(variant);
    case 'Money': return { value: NUMBERS[variant], currency: 'EUR' };
    case 'Range': return { low: quantity(variant), high: quantity(variant, 1) };
    case 'Ratio': return { numerator: quantity(variant), denominator: quantity('default') };
    case 'Period': return { start: `${DAYS[variant]}T10:20:30Z`, end: `${DAYS[variant]}T11:20:30Z` };
    case 'Timing': return { event: [`${DAYS[variant]}T10:20:30Z`] };
    case 'Reference': return referenceTo(spec);
    case 'Attachment': return { contentType: 'text/plain', url: `http://example.org/${word}` };
    case 'Annotation': return { text: word };
    case 'Narrative': return { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
    case 'Extension': return { url: 'http://example.org/ext', valueString: word };
    case 'SampledData': return { origin: quantity(variant), period: 1, dimensions: 1 };
    case 'Resource': return minimalResource(spec.refType ?? 'Basic');
    default:
      return loadFhirModel().isResourceType(spec.type) ? minimalResource(spec.type) : minimalElement(spec.type, 0);
  }
}

/** A sample value of a type in a variant. */
export function sampleValue(spec: SampleSpec): unknown {
  return primitive(spec.type, spec.element, spec.variant) ?? complex(spec);
}

function elementName(el: ElementDef): string {
  return el.path.slice(el.path.lastIndexOf('.') + 1).replace(/\[x\]$/, '');
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The node type of an element's first type (backbone elements are named by their path). */
export function elementNodeType(el: ElementDef, typeCode?: string): string {
  if (el.contentReference) return el.contentReference.slice(1);
  const code = typeCode ?? el.types?.[0]?.code ?? 'string';
  return code === 'BackboneElement' || code === 'Element' ? el.path.replace(/\[x\]$/, '') : code;
}

/** The JSON key and value of an element filled with its `default` sample. */
function defaultEntry(el: ElementDef, depth: number): [string, unknown] | null {
  const type = el.types?.[0]?.code;
  const name = elementName(el);
  const key = el.path.endsWith('[x]') && type ? name + capitalise(type) : name;
  const nodeType = elementNodeType(el);
  const value = nodeType.includes('.') ? minimalElement(nodeType, depth + 1) : sampleValue({ type: nodeType, element: el, variant: 'default' });
  if (value === undefined) return null;
  return [key, el.max === '1' ? value : [value]];
}

/**
 * An element (a backbone path or a datatype name) with its required children filled; when none is
 * required and `filler` is set, its first simple child, so the element is not empty (ele-1).
 */
export function minimalElement(typePath: string, depth: number, filler = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > 6) return out;
  const children = loadFhirModel().getChildren(typePath).filter((el) => !SKIPPED_CHILDREN.has(elementName(el)));
  for (const el of children.filter((c) => c.min >= 1)) {
    const entry = defaultEntry(el, depth);
    if (entry) out[entry[0]] = entry[1];
  }
  if (filler && Object.keys(out).length === 0) {
    const simple = children.find((el) => el.types?.length && primitive(el.types[0].code, el, 'default') !== undefined);
    const entry = simple ? defaultEntry(simple, depth) : null;
    if (entry) out[entry[0]] = entry[1];
  }
  return out;
}

/** A resource of `resourceType` with its required elements filled. */
export function minimalResource(resourceType: string): Record<string, unknown> {
  return { resourceType, ...minimalElement(resourceType, 0) };
}
