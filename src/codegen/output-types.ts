/**
 * Output object types: one per resource type, complex datatype and backbone element. A field is
 * named as its FHIR element, a list when `max` is not 1, nullable always (access rules and
 * `_elements`-like selection can leave anything out). Every resource type implements the
 * `Resource` interface; `Reference` gets the spec's `resource(type:)` field; elements typed
 * `Resource` (`contained`, `Bundle.entry.resource`) are the interface; primitive fields get a
 * `_<name>: ElementExt` sibling for their `id` and extensions, as FHIR JSON has.
 * https://hl7.org/fhir/R4/graphql.html#schema  https://hl7.org/fhir/R4/json.html#primitive
 */
import { primitiveExtensionFieldName } from './naming.ts';
import { scalarOfPrimitive } from './scalars.ts';
import { hasPrimitiveExtension, type FieldShape, type TypeShape } from './type-shapes.ts';

/** The interface every resource type implements. https://hl7.org/fhir/R4/resource.html */
export const RESOURCE_INTERFACE = 'Resource';

/** The object holding a primitive's `id` and `extension` (`_birthDate`). https://hl7.org/fhir/R4/json.html#primitive */
export const ELEMENT_EXT_TYPE = 'ElementExt';

/**
 * SDL of the `Resource` interface (the elements of R4 `Resource`, plus `resourceType`, which
 * every resource type also has so a client can tell the concrete type of a `contained` entry
 * without `__typename`) and of `ElementExt`. https://hl7.org/fhir/R4/resource.html
 */
export function renderOutputBase(): string {
  return [
    '"Any FHIR resource (https://hl7.org/fhir/R4/resource.html)."',
    `interface ${RESOURCE_INTERFACE} {`,
    '  resourceType: String',
    '  id: ID',
    '  meta: Meta',
    '  implicitRules: String',
    '  language: String',
    '}',
    '',
    '"The id and extensions of a primitive value, the `_<name>` property of FHIR JSON."',
    `type ${ELEMENT_EXT_TYPE} {`,
    '  id: String',
    '  extension: [Extension]',
    '}',
    '',
  ].join('\n');
}

/**
 * SDL of one output object type; `extraFields` are SDL field lines appended after the FHIR
 * elements (the reverse-reference fields of a resource type).
 * https://hl7.org/fhir/R4/graphql.html#schema
 */
export function renderOutputType(shape: TypeShape, extraFields: readonly string[] = []): string {
  const lines = [`"${describeShape(shape)}"`];
  lines.push(shape.kind === 'resource' ? `type ${shape.name} implements ${RESOURCE_INTERFACE} {` : `type ${shape.name} {`);
  if (shape.kind === 'resource') lines.push('  resourceType: String');
  for (const field of shape.fields) lines.push(...renderOutputField(field));
  if (shape.name === 'Reference') lines.push(`  resource(type: String): ${RESOURCE_INTERFACE}`);
  for (const extra of extraFields) lines.push(`  ${extra}`);
  lines.push('}', '');
  return lines.join('\n');
}

/** A short description naming the FHIR definition a type comes from (with its page for a resource). */
export function describeShape(shape: TypeShape): string {
  if (shape.kind === 'resource') return `FHIR resource ${shape.name} (https://hl7.org/fhir/R4/${shape.name.toLowerCase()}.html)`;
  return shape.kind === 'datatype' ? `FHIR datatype ${shape.path}` : `FHIR backbone element ${shape.path}`;
}

function renderOutputField(field: FieldShape): string[] {
  const type = outputTypeOf(field);
  const lines = [`  ${field.name}: ${field.list ? `[${type}]` : type}`];
  if (hasPrimitiveExtension(field)) {
    lines.push(`  ${primitiveExtensionFieldName(field.name)}: ${field.list ? `[${ELEMENT_EXT_TYPE}]` : ELEMENT_EXT_TYPE}`);
  }
  return lines;
}

function outputTypeOf(field: FieldShape): string {
  switch (field.kind) {
    case 'primitive':
      return scalarOfPrimitive(field.type);
    case 'resource':
      return RESOURCE_INTERFACE;
    case 'datatype':
    case 'backbone':
      return field.type;
    default:
      throw new Error(`unreachable field kind ${(field as { kind: string }).kind}`);
  }
}
