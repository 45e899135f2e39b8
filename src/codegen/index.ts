/**
 * `src/codegen`: pure functions from the FHIR model to the GraphQL SDL of the FHIR graph, and the
 * name conversions the resolvers need to find their way back. https://hl7.org/fhir/R4/graphql.html
 */
export { buildFhirSdl, listEntityTypes } from './build-fhir-sdl.ts';
export { renderSchemaFile, SCHEMA_FILE_HEADER, SCHEMA_FILE_PATH } from './schema-file.ts';
export * from './naming.ts';
export { CUSTOM_SCALAR_NAMES, JSON_SCALAR, scalarOfPrimitive } from './scalars.ts';
export { collectTypeShapes, hasPrimitiveExtension, type FieldKind, type FieldShape, type TypeShape } from './type-shapes.ts';
export { listSearchArgs, searchArgCodes, LIST_RESULT_ARGS, REVERSE_RESULT_ARGS, type SearchArg } from './search-args.ts';
export { buildReverseReferenceIndex, listReferenceParams, reverseReferenceParams, type ReverseReference } from './reverse-references.ts';
export { ELEMENT_EXT_TYPE, RESOURCE_INTERFACE } from './output-types.ts';
export { pruneSchemaForResolvers } from './codegen-resolver-schema.ts';
