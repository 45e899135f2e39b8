/**
 * Assembles the whole FHIR GraphQL schema as SDL from the model: custom scalars, the `Resource`
 * interface, output types (reverse-reference fields on resource types), connection types,
 * reference-parameter enums, input types, the query and mutation roots, and the subscription root
 * with its change event types (`subscription-root.ts`). Pure and
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
import { SUBSCRIPTION_ROOT } from './naming.ts';
import { renderChangeActionEnum, renderChangeEventType, renderSubscriptionField } from './subscription-root.ts';
import { collectTypeShapes } from './type-shapes.ts';

/** How to render the SDL. */
export interface FhirSdlOptions {
  /**
   * Give each source type's reverse-reference arguments once, on its carrier type's field, for the
   * runtime build (`renderReverseFields`); the committed file and `_service.sdl` have them all.
   */
  compactReverseArgs?: boolean;
  /**
   * Include the subscription root and its change event types (default true). The federation SDL
   * leaves them out: a gateway does not route subscriptions to this subgraph.
   */
  subscriptions?: boolean;
}

/**
 * The SDL of the FHIR graph (without the generated-file header; see `renderSchemaFile`).
 * https://hl7.org/fhir/R4/graphql.html
 */
export function buildFhirSdl(model: FhirModel, options: FhirSdlOptions = {}): string {
  const shapes = collectTypeShapes(model);
  const subscriptions = options.subscriptions ?? true;
  const sections = [
    renderSchemaDefinition(subscriptions),
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
  if (subscriptions) {
    sections.push(
      renderChangeActionEnum(),
      ...model.resourceTypes.map(renderChangeEventType),
      renderRoot(SUBSCRIPTION_ROOT, SUBSCRIPTION_DESCRIPTION, model.resourceTypes.map(renderSubscriptionField)),
    );
  }
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

/** The subscription root's description: what its fields' arguments mean. */
const SUBSCRIPTION_DESCRIPTION = 'Committed changes per resource type, over WebSocket (graphql-transport-ws) only: `TChanged(criteria:'
  + ' a FHIR search query for T such as code=http://loinc.org|8867-4&subject=Patient/1, actions: which of CREATE, UPDATE, DELETE'
  + ' (default all), since: the cursor of an event to resume after)`. https://hl7.org/fhir/R4/subscription.html';

function renderSchemaDefinition(subscriptions: boolean): string {
  return `schema {\n  query: Query\n  mutation: Mutation\n${subscriptions ? `  subscription: ${SUBSCRIPTION_ROOT}\n` : ''}}\n`;
}

function renderRoot(name: string, description: string, fields: readonly string[]): string {
  return [`"${description}"`, `type ${name} {`, ...fields.map((f) => `  ${f}`), '}', ''].join('\n');
}
