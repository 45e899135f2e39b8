/**
 * The FHIR schema as the server runs it, built at start from the model (DECISIONS.md §6: ≤ 1 s,
 * ≤ 300 MB). It is the schema of `schema/fhir.graphql`, built from the compact SDL
 * (`compactReverseArgs`): a reverse-reference field's arguments depend only on its source type,
 * so the ~5,600 `<S>List` fields share one argument list per source type instead of parsing and
 * keeping ~143,000 argument definitions. https://hl7.org/fhir/R4/graphql.html#searching
 */
import {
  buildSchema,
  GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLUnionType,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type GraphQLTypeResolver,
} from 'graphql';
import { buildFhirSdl } from '../codegen/build-fhir-sdl.ts';
import { listFieldName } from '../codegen/naming.ts';
import { buildReverseReferenceIndex, reverseArgsCarriers } from '../codegen/reverse-references.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { invariant } from '../fhir/outcomes.ts';

/**
 * Builds the FHIR schema (no resolvers) from the compact SDL and gives every reverse-reference
 * field its source type's arguments. Source locations are left out: they would keep every token
 * of the SDL alive.
 */
export function buildRuntimeSchema(model: FhirModel): GraphQLSchema {
  // The SDL is validated by the codegen tests.
  const schema = buildSchema(buildFhirSdl(model, { compactReverseArgs: true }), { noLocation: true, assumeValidSDL: true });
  shareReverseArgs(schema, model);
  return schema;
}

/** Points each `<S>List` reverse field at the argument list of `S`'s carrier field. */
function shareReverseArgs(schema: GraphQLSchema, model: FhirModel): void {
  const carriers = reverseArgsCarriers(model);
  const objectType = (name: string) => {
    const type = schema.getType(name);
    invariant(type instanceof GraphQLObjectType, `${name} is an object type of the FHIR schema`);
    return type;
  };
  for (const [target, references] of buildReverseReferenceIndex(model)) {
    const fields = objectType(target).getFields();
    for (const { source } of references) {
      const carrier = carriers.get(source)!;
      if (carrier === target) continue;
      const field = fields[listFieldName(source)];
      const template = objectType(carrier).getFields()[listFieldName(source)];
      invariant(field && template && template.args.length > 0, `${target}.${listFieldName(source)} has a carrier on ${carrier}`);
      field.args = template.args;
    }
  }
}

/** A resolver map as `buildResolvers` makes it: scalars by name, or field resolvers by type. */
type ResolverMapInput = Record<string, unknown>;

/**
 * Attaches a resolver map to the schema in place: custom scalars take over their coercion, object
 * fields their `resolve`, interfaces `__resolveType`. It does what `addResolversToSchema` does for
 * this map in a few milliseconds instead of ~130, since it visits only the types the map names.
 */
export function attachResolvers(schema: GraphQLSchema, resolvers: ResolverMapInput): GraphQLSchema {
  for (const [typeName, entry] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    invariant(type, `the resolver map names ${typeName}, a type of the schema`);
    if (type instanceof GraphQLScalarType) {
      invariant(entry instanceof GraphQLScalarType, `${typeName} is given a scalar implementation`);
      type.serialize = entry.serialize;
      type.parseValue = entry.parseValue;
      type.parseLiteral = entry.parseLiteral;
      if (entry.description) type.description = entry.description;
      continue;
    }
    const map = entry as Record<string, GraphQLFieldResolver<unknown, unknown> | GraphQLTypeResolver<unknown, unknown>>;
    if (type instanceof GraphQLInterfaceType || type instanceof GraphQLUnionType) {
      invariant(typeof map.__resolveType === 'function', `${typeName} is given __resolveType`);
      type.resolveType = map.__resolveType as GraphQLTypeResolver<unknown, unknown>;
      continue;
    }
    invariant(type instanceof GraphQLObjectType, `${typeName} is an object type`);
    const fields = type.getFields();
    for (const [fieldName, resolve] of Object.entries(map)) {
      invariant(fields[fieldName], `${typeName}.${fieldName} is a field of the schema`);
      fields[fieldName].resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  return schema;
}
