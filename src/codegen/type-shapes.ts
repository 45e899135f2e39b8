/**
 * The FHIR model seen as GraphQL object shapes: every concrete resource type, every concrete
 * complex datatype and every backbone element becomes one shape with one field per FHIR element,
 * one per type of a choice element (`valueQuantity`, `valueString`). Output and input types are
 * rendered from these shapes, so the two stay field-for-field parallel. The resolvers can use the
 * shapes to find the FHIR path and type behind any GraphQL field.
 * https://hl7.org/fhir/R4/graphql.html#schema  https://hl7.org/fhir/R4/elementdefinition.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import type { ElementDef } from '../fhir/model-types.ts';
import { backboneTypeName, choiceFieldName } from './naming.ts';
import { isSystemTypeCode } from './scalars.ts';

/** What a field holds: a FHIR primitive, a complex datatype, a backbone element, or any resource. */
export type FieldKind = 'primitive' | 'datatype' | 'backbone' | 'resource';

/** One GraphQL field of a shape. */
export interface FieldShape {
  /** GraphQL field name: the FHIR element name, or `<name><Type>` for one type of a choice. */
  name: string;
  kind: FieldKind;
  /** Primitive: the FHIR type code; datatype/backbone: the output type name; resource: `Resource`. */
  type: string;
  /** `max` is not `1`. */
  list: boolean;
  /** The FHIR element path (`Observation.value[x]`). */
  path: string;
  /** For `Reference` fields: the allowed target types (absent = any). */
  targets?: string[];
}

/** One GraphQL object type derived from the model. */
export interface TypeShape {
  /** GraphQL type name (`Patient`, `HumanName`, `PatientContact`). */
  name: string;
  kind: 'resource' | 'datatype' | 'backbone';
  /** The FHIR path whose children are the fields (`Patient`, `Patient.contact`). */
  path: string;
  fields: FieldShape[];
}

/** Type codes that make an element a backbone element (`Element` in datatypes such as `Timing.repeat`). */
const BACKBONE_CODES = new Set(['BackboneElement', 'Element']);

/**
 * Collects the shapes of every concrete resource type, complex datatype and backbone element,
 * sorted by name. Abstract types (`Resource`, `DomainResource`, `Element`, `BackboneElement`) get
 * no shape: `Resource` is an interface, the others only lend their elements.
 * https://hl7.org/fhir/R4/graphql.html#schema
 */
export function collectTypeShapes(model: FhirModel): TypeShape[] {
  const shapes: TypeShape[] = [];
  for (const [name, def] of Object.entries(model.data.types)) {
    if (def.abstract || def.kind === 'primitive-type') continue;
    collectShape(model, name, def.kind === 'resource' ? 'resource' : 'datatype', name, shapes);
  }
  return shapes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Adds the shape at `path` and, depth first, the shapes of its backbone elements. */
function collectShape(model: FhirModel, name: string, kind: TypeShape['kind'], path: string, out: TypeShape[]): void {
  const fields: FieldShape[] = [];
  for (const el of model.getChildren(path)) {
    fields.push(...fieldsOfElement(model, el));
    if (isBackbone(el)) collectShape(model, backboneTypeName(el.path), 'backbone', el.path, out);
  }
  out.push({ name, kind, path, fields });
}

function isBackbone(el: ElementDef): boolean {
  return !el.contentReference && el.types?.length === 1 && BACKBONE_CODES.has(el.types[0].code);
}

/** The fields of one element: one, or one per allowed type of a choice element. */
function fieldsOfElement(model: FhirModel, el: ElementDef): FieldShape[] {
  const elementName = el.path.slice(el.path.lastIndexOf('.') + 1);
  const list = el.max !== '1' && el.max !== '0';
  if (el.contentReference) {
    const type = backboneTypeName(el.contentReference.replace(/^#/, ''));
    return [{ name: elementName, kind: 'backbone', type, list, path: el.path }];
  }
  if (isBackbone(el)) return [{ name: elementName, kind: 'backbone', type: backboneTypeName(el.path), list, path: el.path }];
  const types = el.types ?? [];
  const choice = elementName.endsWith('[x]');
  return types.map((t) => ({
    name: choice ? choiceFieldName(elementName, t.code) : elementName,
    kind: kindOf(model, t.code),
    type: t.code,
    list,
    path: el.path,
    ...(t.code === 'Reference' && t.targets ? { targets: t.targets } : {}),
  }));
}

function kindOf(model: FhirModel, code: string): FieldKind {
  if (code === 'Resource') return 'resource';
  if (isSystemTypeCode(code) || model.getType(code)?.kind === 'primitive-type') return 'primitive';
  return 'datatype';
}

/**
 * Whether a primitive field gets a `_<name>` sibling holding its `id` and extensions, as in FHIR
 * JSON. Not for `id` elements (`Resource.id`, `Element.id`), `Extension.url` or xhtml
 * (`Narrative.div`), which FHIR JSON renders without one.
 * https://hl7.org/fhir/R4/json.html#primitive
 */
export function hasPrimitiveExtension(field: FieldShape): boolean {
  return field.kind === 'primitive' && field.name !== 'id' && field.path !== 'Extension.url' && field.type !== 'xhtml';
}
