/**
 * Search: `GET /fhir/{type}?…`, `POST /fhir/{type}/_search` with a form body (at most
 * `MAX_FORM_BODY`), and system search `GET /fhir?_type=…`. The query string and the form body
 * meet the same search limits, counted in their text before they are decoded. Unknown parameters
 * are ignored and reported in an OperationOutcome entry, or refused with 400 under
 * `Prefer: handling=strict`. https://hl7.org/fhir/R4/http.html#search
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unsupportedMediaType } from '../../fhir/outcomes.ts';
import { readSearchPairs } from '../../search/search-query-text.ts';
import type { FhirRoute, Params, RouteDeps } from '../fhir-route.ts';
import { renderBundle } from '../render-bundle.ts';
import { sendJson } from '../reply.ts';
import { queryOf } from '../request-url.ts';

/** The search's parameters in order, repeats kept, from the query string and `form` (a body), within `SEARCH_MAX_PARAMS`. */
function queryParams(request: FastifyRequest, deps: RouteDeps, form = ''): [string, string][] {
  return readSearchPairs([queryOf(request.url), form], deps.service.limits.search);
}

function isStrict(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer;
  return typeof prefer === 'string' && /handling=strict/i.test(prefer);
}

async function search(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps, params: [string, string][]): Promise<unknown> {
  const { type } = request.params as Params;
  const bundle = await deps.service.search(deps.context(request), type, params, { strict: isStrict(request) });
  return sendJson(request, reply, 200, renderBundle(bundle));
}

export const searchRoutes: FhirRoute[] = [
  {
    method: 'GET',
    url: '/fhir/:type',
    capabilities: [{ level: 'type', interaction: 'search-type' }],
    handler: (request, reply, deps) => search(request, reply, deps, queryParams(request, deps)),
  },
  {
    method: 'POST',
    url: '/fhir/:type/_search',
    capabilities: [],
    async handler(request, reply, deps) {
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded' && request.body !== undefined) {
        throw unsupportedMediaType('POST _search takes an application/x-www-form-urlencoded body');
      }
      return search(request, reply, deps, queryParams(request, deps, typeof request.body === 'string' ? request.body : ''));
    },
  },
  {
    method: 'GET',
    url: '/fhir/:compartment/:id/:type',
    capabilities: [],
    async handler(request, reply, deps) {
      const { compartment, id, type } = request.params as Params;
      const bundle = await deps.service.searchCompartment(deps.context(request), compartment, id, type, queryParams(request, deps), { strict: isStrict(request) });
      return sendJson(request, reply, 200, renderBundle(bundle));
    },
  },
  {
    method: 'GET',
    url: '/fhir',
    capabilities: [{ level: 'system', interaction: 'search-system' }],
    handler: (request, reply, deps) => search(request, reply, deps, queryParams(request, deps)),
  },
];
