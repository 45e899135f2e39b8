/**
 * The SDL a federation gateway composes for this subgraph: the generated FHIR SDL with the
 * Federation v2 `@link` on the schema and `@key(fields: "id")` on every resource type. Built on
 * the first `_service` query (not at start) and cached per model.
 * https://www.apollographql.com/docs/federation/subgraph-spec/#query_service
 */
import { buildFhirSdl, listEntityTypes } from '../codegen/build-fhir-sdl.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { invariant } from '../fhir/outcomes.ts';

/** The Federation spec version the subgraph links; the gateway of DECISIONS.md §1 (2.14) composes it. */
export const FEDERATION_SPEC_URL = 'https://specs.apollo.dev/federation/v2.3';

const LINK = `extend schema @link(url: "${FEDERATION_SPEC_URL}", import: ["@key"])\n`;
/** How `renderOutputType` opens a resource type (the only types that implement `Resource`). */
const RESOURCE_TYPE_HEAD = /^type ([A-Za-z][A-Za-z0-9]*) implements Resource \{$/gm;

const cache = new WeakMap<FhirModel, string>();

/**
 * The subgraph SDL of the FHIR graph for `Query._service.sdl`: every entity (each resource type,
 * `listEntityTypes`) keyed by `id`, without the federation additions themselves (`_Any`,
 * `_Entity`, `_Service`, `_service`, `_entities`), as the subgraph spec asks, and without the
 * subscription root and its event types: subscriptions are served over this server's own
 * WebSocket, not routed through a gateway.
 * https://www.apollographql.com/docs/federation/subgraph-spec/#subgraph-schema-additions
 */
export function subgraphSdl(model: FhirModel): string {
  let sdl = cache.get(model);
  if (sdl === undefined) {
    const entities = new Set(listEntityTypes(model));
    let keyed = 0;
    // One pass over the 3.8 MB SDL rather than a parse and print (which cost ~10 times as long).
    const body = buildFhirSdl(model, { subscriptions: false }).replace(RESOURCE_TYPE_HEAD, (head, name: string) => {
      if (!entities.has(name)) return head;
      keyed += 1;
      return `type ${name} implements Resource @key(fields: "id") {`;
    });
    invariant(keyed === entities.size, `every entity type gets @key (${keyed} of ${entities.size})`);
    sdl = LINK + body;
    cache.set(model, sdl);
  }
  return sdl;
}
