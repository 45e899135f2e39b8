/**
 * The REST routes of the registry's operations: for each operation, level and method one route
 * (`/fhir/$export`, `/fhir/Patient/$everything`, `/fhir/:type/:id/$validate`) whose capability
 * names the OperationDefinition, the types and the permissions, so the CapabilityStatement lists
 * each operation on exactly the types it is served on. Every invocation opens the same way: the
 * audit names it, the URL's type (404), the permission (403) and id (400) are checked, then its
 * parameters (400), and only then does the operation run.
 * https://hl7.org/fhir/R4/operations.html#executing
 */
import type { FastifyRequest } from 'fastify';
import { startInteraction } from '../service/interaction-start.ts';
import type { FhirRoute, Params, Query, RouteCapability } from '../rest/fhir-route.ts';
import { readResourceBody } from '../rest/request-body.ts';
import type { Operation, OperationLevel } from './operation.ts';
import { parseOperationParams } from './operation-parameters.ts';

/** The URLs an operation is served at on one level. */
function urlsOf(op: Operation, level: OperationLevel): string[] {
  if (level === 'system') return [`/fhir/$${op.name}`];
  const types = op.resourceTypes ?? [':type'];
  return types.map((type) => (level === 'type' ? `/fhir/${type}/$${op.name}` : `/fhir/${type}/:id/$${op.name}`));
}

/** The capability of an operation's route on one level. */
export function operationCapability(op: Pick<Operation, 'name' | 'definition' | 'permissions' | 'resourceTypes'>, level: OperationLevel): RouteCapability {
  return { level: 'operation', name: op.name, definition: op.definition, scope: level, permissions: op.permissions, resourceTypes: op.resourceTypes };
}

/** True when a request carries a body to read. */
function hasBody(request: FastifyRequest): boolean {
  return typeof request.body === 'string' && request.body.trim() !== '';
}

/** The route-table entries of `operations`, their own extra routes included. */
export function operationRoutes(operations: readonly Operation[]): FhirRoute[] {
  return operations.flatMap((op) => [
    ...op.levels.flatMap((level) => urlsOf(op, level).flatMap((url) => op.methods.map((method): FhirRoute => ({
      method,
      url,
      capabilities: [operationCapability(op, level)],
      body: op.body,
      async handler(request, reply, deps) {
        const params = request.params as Params;
        const type = params.type ?? (level === 'system' ? undefined : url.split('/')[2]);
        const id = level === 'instance' ? params.id : undefined;
        const ctx = deps.context(request);
        startInteraction(ctx, deps.service.model, {
          action: op.action,
          interaction: 'operation',
          types: type ? [type] : [],
          permissions: type && op.permissions.length > 0 ? [[type, [...op.permissions]]] : [],
          id,
        });
        const body = method === 'POST' && !op.readsBody && hasBody(request) ? readResourceBody(request) : undefined;
        const query = request.query as Query;
        const parsed = parseOperationParams(op.parameters, op.readsBody ? {} : query, body);
        return op.handle({ request, reply, deps, ctx, level, type, id, params: parsed });
      },
    })))),
    ...(op.routes ?? []),
  ]);
}
