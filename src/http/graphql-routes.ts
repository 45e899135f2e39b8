/**
 * The GraphQL endpoints as entries of the app's route table, so they are registered, answered
 * 405 for other methods, and listed in the CapabilityStatement like every REST route: `$graphql`
 * at the system level (`/fhir/$graphql`) and on every resource instance
 * (`/fhir/{type}/{id}/$graphql`), by GET or POST (https://hl7.org/fhir/R4/graphql.html#invoking,
 * https://hl7.org/fhir/R4/resource-operation-graphql.html). `/graphql` is the same graph at the
 * path GraphQL clients expect, not a FHIR operation.
 */
import type { GraphQLEndpoints } from '../graphql/graphql-server.ts';
import type { FhirRoute, RouteCapability } from '../rest/fhir-route.ts';

/** The OperationDefinition of `$graphql` in FHIR R4. */
export const GRAPHQL_OPERATION_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/Resource-graphql';

const GRAPHQL = { level: 'operation', name: 'graphql', definition: GRAPHQL_OPERATION_DEFINITION, permissions: ['r'] } as const;
const SYSTEM: RouteCapability[] = [{ ...GRAPHQL, scope: 'system' }];
const INSTANCE: RouteCapability[] = [{ ...GRAPHQL, scope: 'instance' }];

/** The route-table entries of the GraphQL endpoints, served by `endpoints`. */
export function graphqlRoutes(endpoints: GraphQLEndpoints): FhirRoute[] {
  return (['GET', 'POST'] as const).flatMap((method): FhirRoute[] => [
    { method, url: '/graphql', capabilities: [{ level: 'none' }], handler: (request, reply) => endpoints.system(request, reply) },
    { method, url: '/fhir/$graphql', capabilities: SYSTEM, handler: (request, reply) => endpoints.system(request, reply) },
    { method, url: '/fhir/:type/:id/$graphql', capabilities: INSTANCE, handler: (request, reply) => endpoints.instance(request, reply) },
  ]);
}
