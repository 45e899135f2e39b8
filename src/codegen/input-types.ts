/**
 * Mutation input types, one per output object type and named with the `_Input` suffix
 * (`Patient_Input`, `HumanName_Input`, `TaskInput_Input` for the `Task.input` backbone), which no
 * FHIR-derived PascalCase name can end with (DECISIONS.md §6). Fields mirror the output fields,
 * except: elements typed `Resource` (`contained`, `Bundle.entry.resource`,
 * `Bundle.entry.response.outcome`, `Parameters.parameter.resource`) take the `JSON` scalar,
 * because GraphQL has no input unions; `Reference_Input` has no `resource`. Every field is
 * optional, required elements included: the service validates the resource as it validates a
 * REST body, with FHIR's error messages, and a choice element's "one of" cannot be expressed in
 * GraphQL anyway. https://hl7.org/fhir/R4/graphql.html#mutation
 */
import { inputTypeName, primitiveExtensionFieldName } from './naming.ts';
import { ELEMENT_EXT_TYPE } from './output-types.ts';
import { JSON_SCALAR, scalarOfPrimitive } from './scalars.ts';
import { hasPrimitiveExtension, type FieldShape, type TypeShape } from './type-shapes.ts';

/** SDL of `ElementExt_Input`, the input form of a primitive's `_<name>` object. */
export function renderInputBase(): string {
  return [
    '"The id and extensions of a primitive value, the `_<name>` property of FHIR JSON."',
    `input ${inputTypeName(ELEMENT_EXT_TYPE)} {`,
    '  id: String',
    `  extension: [${inputTypeName('Extension')}]`,
    '}',
    '',
  ].join('\n');
}

/**
 * SDL of the input type of one shape. A resource input also has an optional `resourceType`, so
 * a client can send a FHIR JSON resource unchanged; the service checks it names the mutation's type.
 * https://hl7.org/fhir/R4/graphql.html#mutation
 */
export function renderInputType(shape: TypeShape): string {
  const lines = [`input ${inputTypeName(shape.name)} {`];
  if (shape.kind === 'resource') lines.push('  resourceType: String');
  for (const field of shape.fields) {
    const type = inputTypeOf(field);
    lines.push(`  ${field.name}: ${field.list ? `[${type}]` : type}`);
    if (hasPrimitiveExtension(field)) {
      const ext = inputTypeName(ELEMENT_EXT_TYPE);
      lines.push(`  ${primitiveExtensionFieldName(field.name)}: ${field.list ? `[${ext}]` : ext}`);
    }
  }
  lines.push('}', '');
  return lines.join('\n');
}

function inputTypeOf(field: FieldShape): string {
  switch (field.kind) {
    case 'primitive':
      return scalarOfPrimitive(field.type);
    case 'resource':
      return JSON_SCALAR;
    case 'datatype':
    case 'backbone':
      return inputTypeName(field.type);
    default:
      throw new Error(`unreachable field kind ${(field as { kind: string }).kind}`);
  }
}
