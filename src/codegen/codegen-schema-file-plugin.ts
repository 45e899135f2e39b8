/**
 * GraphQL Code Generator plugin for `schema/fhir.graphql`: the file's exact text,
 * `renderSchemaFile(model)` (the SDL as the generator writes it, under its header), rather than a
 * re-print of the schema the CLI loaded, which would sort the types and lose the layout.
 * https://the-guild.dev/graphql/codegen/docs/custom-codegen/write-your-plugin
 */
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { renderSchemaFile } from './schema-file.ts';

/** The plugin: returns the file's text (the loaded schema is built from the same model). */
export function plugin(): string {
  return renderSchemaFile(loadFhirModel());
}
