/**
 * GraphQL Code Generator schema loader for the typed resolver signatures of `codegen.ts`: the
 * FHIR graph pruned to its resolver seams (`pruneSchemaForResolvers`), extended with the
 * hand-written admin fields (`adminTypeDefs`), so that their resolvers are typed too.
 * https://the-guild.dev/graphql/codegen/docs/config-reference/schema-field#custom-schema-loader
 */
import { buildASTSchema, concatAST, parse, type GraphQLSchema } from 'graphql';
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { adminTypeDefs } from './admin-type-defs.ts';
import { pruneSchemaForResolvers } from './codegen-resolver-schema.ts';
import { loadFhirSchemaDocument } from './codegen-schema-loader.ts';

/**
 * The loader: one built schema (see `loadFhirSchema` for why not a document, and not a second
 * pointer for the admin SDL, which the CLI would merge the same way).
 */
export default function loadFhirResolverSchema(): GraphQLSchema {
  const seams = pruneSchemaForResolvers(loadFhirSchemaDocument(), loadFhirModel());
  return buildASTSchema(concatAST([seams, parse(adminTypeDefs, { noLocation: true })]));
}
