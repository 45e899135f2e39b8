/**
 * GraphQL Code Generator schema loader for `codegen.ts`: the whole FHIR graph, built from the
 * committed FHIR model by the pure functions of this folder (never read back from
 * `schema/fhir.graphql`, which is one of its outputs). The CLI calls the default export with the
 * pointer it is configured under.
 * https://the-guild.dev/graphql/codegen/docs/config-reference/schema-field#custom-schema-loader
 */
import { buildASTSchema, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { buildFhirSdl } from './build-fhir-sdl.ts';

let cached: DocumentNode | undefined;

/** The parsed SDL of the FHIR graph (memoised: both outputs of `codegen.ts` start from it). */
export function loadFhirSchemaDocument(): DocumentNode {
  cached ??= parse(buildFhirSdl(loadFhirModel()), { noLocation: true });
  return cached;
}

/**
 * The loader. It returns a built schema rather than a document: the CLI then uses it as it is,
 * where it would re-merge a document, which takes longer and would have to keep the `schema`
 * definition's `subscription: Change_Subscription` (else the FHIR resource type `Subscription`
 * becomes the subscription root by its name).
 */
export default function loadFhirSchema(): GraphQLSchema {
  return buildASTSchema(loadFhirSchemaDocument(), { assumeValidSDL: true });
}
