/**
 * The resolver seams of the FHIR graph: the part of the schema that typed resolver signatures
 * (`src/graphql/generated/resolver-types.ts`) are generated from. The whole graph gives about
 * 16 MB of TypeScript, almost all of it for FHIR datatypes and backbone elements, which have no
 * resolvers of their own (their fields are JSON properties read by the default resolver). This
 * keeps what the hand-written and the generic resolvers meet:
 *
 * - `Query`, `Mutation` and the subscription root, every field with its arguments, and each
 *   resource type's change event type (`Patient_ChangeEvent`) whole; an input object argument
 *   (`res: Patient_Input!`) becomes an opaque scalar of the same name, since the service
 *   validates it as a FHIR resource, like a REST body (DECISIONS.md §6);
 * - the `Resource` interface and every resource type, with the interface's scalar fields only
 *   (a resolver sees a resource as the parsed FHIR JSON, `FhirObject`, through a mapper);
 * - `Reference` with its scalar fields and `resource(type:)`; `TConnection` and `TEdge`;
 * - the scalars, and any enum a kept field or argument uses.
 *
 * Reverse-reference fields (`Patient.ObservationList(_reference:, …)`, about 5,600 with some 30
 * arguments each) are left out: they are built at run time from one generic resolver.
 * https://the-guild.dev/graphql/codegen/plugins/typescript/typescript-resolvers
 */
import {
  Kind,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InterfaceTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ScalarTypeDefinitionNode,
  type TypeNode,
} from 'graphql';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { changeEventTypeName, connectionTypeName, edgeTypeName, SUBSCRIPTION_ROOT } from './naming.ts';
import { RESOURCE_INTERFACE } from './output-types.ts';

const BUILT_IN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);
const ROOT_TYPES = new Set(['Query', 'Mutation', SUBSCRIPTION_ROOT]);

type FieldsNode = ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode;

/**
 * Prunes the parsed SDL of the whole FHIR graph (`parse(buildFhirSdl(model))`) to its resolver
 * seams, as described above. Pure: the same document gives the same result, definitions in their
 * original order.
 */
export function pruneSchemaForResolvers(document: DocumentNode, model: FhirModel): DocumentNode {
  const definitions = new Map<string, DefinitionNode>();
  const scalars = new Set(BUILT_IN_SCALARS);
  for (const def of document.definitions) {
    if (!('name' in def) || !def.name) continue;
    definitions.set(def.name.value, def);
    if (def.kind === Kind.SCALAR_TYPE_DEFINITION) scalars.add(def.name.value);
  }
  const resources = new Set(model.resourceTypes);
  // Types whose every field is kept: the roots and the change events (whose `action` is an enum).
  const whole = new Set([...ROOT_TYPES, ...model.resourceTypes.map(changeEventTypeName)]);
  const kept = new Set([...whole, RESOURCE_INTERFACE, 'Reference', ...model.resourceTypes.flatMap((t) => [t, connectionTypeName(t), edgeTypeName(t)])]);
  const resourceInterface = definitions.get(RESOURCE_INTERFACE) as InterfaceTypeDefinitionNode | undefined;
  const interfaceFields = new Set((resourceInterface?.fields ?? []).filter((f) => scalars.has(namedTypeOf(f.type))).map((f) => f.name.value));

  const keepField = (typeName: string, field: FieldDefinitionNode): boolean => {
    if (whole.has(typeName)) return true;
    if (typeName === RESOURCE_INTERFACE || resources.has(typeName)) return interfaceFields.has(field.name.value);
    const type = namedTypeOf(field.type);
    return scalars.has(type) || kept.has(type);
  };
  const pruned = new Map<string, FieldsNode>();
  const used = new Set<string>();
  for (const name of kept) {
    const def = definitions.get(name);
    if (def?.kind !== Kind.OBJECT_TYPE_DEFINITION && def?.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const fields = (def.fields ?? []).filter((field) => keepField(name, field));
    for (const field of fields) {
      used.add(namedTypeOf(field.type));
      for (const arg of field.arguments ?? []) used.add(namedTypeOf(arg.type));
    }
    pruned.set(name, { ...def, fields });
  }

  const result: DefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.SCHEMA_DEFINITION || def.kind === Kind.SCALAR_TYPE_DEFINITION) result.push(def);
    else if ('name' in def && def.name) {
      const name = def.name.value;
      if (pruned.has(name)) result.push(pruned.get(name)!);
      else if (def.kind === Kind.ENUM_TYPE_DEFINITION && used.has(name)) result.push(def);
      else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && used.has(name)) result.push(opaqueScalar(name));
    }
  }
  return { kind: Kind.DOCUMENT, definitions: result };
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}

/** An input object argument as an opaque scalar: the resolver passes it on to FHIR validation. */
function opaqueScalar(name: string): ScalarTypeDefinitionNode {
  return {
    kind: Kind.SCALAR_TYPE_DEFINITION,
    name: { kind: Kind.NAME, value: name },
    description: { kind: Kind.STRING, value: `The input object ${name} of the FHIR graph, as FHIR JSON that the service validates.`, block: false },
  };
}
