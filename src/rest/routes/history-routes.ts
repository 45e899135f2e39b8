/**
 * History at instance, type and system level (https://hl7.org/fhir/R4/http.html#history): the
 * service parses `_count`, `_since`, `_at` and `_cursor` and pages with the same keyset cursor as
 * search; this facade renders the Bundle.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FhirRoute, Params, RouteDeps } from '../fhir-route.ts';
import { renderBundle } from '../render-bundle.ts';
import { sendJson } from '../reply.ts';
import { queryParams } from '../request-url.ts';

async function history(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown> {
  const { type, id } = request.params as Params;
  const bundle = await deps.service.history(deps.context(request), { resourceType: type, id }, queryParams(request.url));
  return sendJson(request, reply, 200, renderBundle(bundle));
}

export const historyRoutes: FhirRoute[] = [
  { method: 'GET', url: '/fhir/:type/:id/_history', capabilities: [{ level: 'type', interaction: 'history-instance' }], handler: history },
  { method: 'GET', url: '/fhir/:type/_history', capabilities: [{ level: 'type', interaction: 'history-type' }], handler: history },
  { method: 'GET', url: '/fhir/_history', capabilities: [{ level: 'system', interaction: 'history-system' }], handler: history },
];
