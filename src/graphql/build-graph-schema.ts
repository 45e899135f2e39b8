/**
 * The graph's executable schema from the FHIR model alone (DECISIONS.md §6): the runtime schema
 * with its resolvers (the subscription root's included), the Federation subgraph additions and
 * the admin fields. The server builds it
 * once per process (`buildExecutableSchema`), and the schema worker builds the same from the same
 * model in its own thread, so the worker's introspection and `_service` answers are those of the
 * served schema. Resolvers take the service from the request context, so nothing here needs one.
 * https://spec.graphql.org/October2021/#sec-Schema
 */
import type { GraphQLSchema } from 'graphql';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { withAdminSchema } from './admin-schema.ts';
import { buildResolvers } from './build-resolvers.ts';
import { withFederation } from './federation.ts';
import { attachResolvers, buildRuntimeSchema } from './runtime-schema.ts';
import { attachChangeResolvers } from './subscriptions/change-resolvers.ts';

/** Builds the schema the server serves for `model` (not cached: see `buildExecutableSchema`). */
export function buildGraphSchema(model: FhirModel): GraphQLSchema {
  const schema = buildRuntimeSchema(model);
  const executable = attachChangeResolvers(attachResolvers(schema, buildResolvers(schema, model)), model);
  return withAdminSchema(withFederation(executable, model));
}
