/**
 * Assembles the whole FHIR GraphQL schema as SDL from the model: custom scalars, the `Resource`
 * interface, output types (reverse-reference fields on resource types), connection types,
 * reference-parameter enums, input types, and the query and mutation roots. Pure and
 * deterministic: the same model gives the same bytes, so `schema/fhir.graphql` can be committed
 * and checked for staleness. https://hl7.org/fhir/R4/graphql.html
 */
import type { FhirModel } from '../fhir/fhir-model.ts';
import { renderResultDirectives } from './directives.ts';
import { renderInputBase, renderInputType } from './input-types.ts';
import { renderMutationFields } from './mutations.ts';
import { renderOutputBase, renderOutputType } from './output-types.ts';
import { renderConnectionTypes, renderQueryFields } from './query-root.ts';
import { renderReferenceParamEnums, renderReverseFields } from './reverse-references.ts';
import { renderScalars } from './scalars.ts';
import { collectTypeShapes } from './type-shapes.ts';

/** How to render the SDL. */
export interface FhirSdlOptions {
  /**
   * Give each source type's reverse-reference arguments once, on its carrier type's field, for the
   * runtime build (`renderReverseFields`); the committed file and `_service.sdl` have them all.
   */
  compactReverseArgs?: boolean;
}

/**
 * The SDL of the FHIR graph (without the generated-file header; see `renderSchemaFile`).
 * https://hl7.org/fhir/R4/graphql.html
 */
export function buildFhirSdl(model: FhirModel, options: FhirSdlOptions = {}): string {
  const shapes = collectTypeShapes(model);
  const sections = [
    renderSchemaDefinition(),
    renderScalars(),
    renderResultDirectives(),
    renderOutputBase(),
    ...shapes.map((s) => renderOutputType(s, s.kind === 'resource' ? renderReverseFields(model, s.name, options.compactReverseArgs) : [])),
    ...model.resourceTypes.map(renderConnectionTypes),
    renderReferenceParamEnums(model),
    renderInputBase(),
    ...shapes.map(renderInputType),
    renderRoot('Query', 'Reads and searches, per resource type (https://hl7.org/fhir/R4/graphql.html#searching).', model.resourceTypes.flatMap((t) => renderQueryFields(model, t))),
    renderRoot('Mutation', 'Create, update and delete (which returns the deleted version), per resource type (https://hl7.org/fhir/R4/graphql.html#mutation).', model.resourceTypes.flatMap(renderMutationFields)),
  ];
  return sections.join('\n');
}

/**
 * The resource type names, every one an entity of the graph: the runtime adds
 * `@key(fields: "id")` to each when it serves the schema as an Apollo Federation subgraph.
 * https://www.apollographql.com/docs/graphos/schema-design/federated-schemas/entities/intro
 */
export function listEntityTypes(model: FhirModel): readonly string[] {
  return model.resourceTypes;
}

function renderSchemaDefinition(): string {
  return 'schema {\n  query: Query\n  mutation: Mutation\n}\n';
}

function renderRoot(name: string, description: string, fields: readonly string[]): string {
  return [`"${description}"`, `type ${name} {`, ...fields.map((f) => `  ${f}`), '}', ''].join('\n');
}
