/**
 * Instance-level interactions: read, vread, update (and update-as-create), patch, delete.
 * https://hl7.org/fhir/R4/http.html#read … #delete
 */
import { allOk } from '../../fhir/outcomes.ts';
import { parseIfMatch } from '../../service/if-match.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../service/request-context.ts';
import type { WriteResult } from '../../service/write-ops.ts';
import type { FhirRoute, Params, RouteDeps } from '../fhir-route.ts';
import { readPatchBody, readTypedBody } from '../request-body.ts';
import { sendJson, sendOutcome, sendWritten, setVersionHeaders } from '../reply.ts';

function ifMatchOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined ? undefined : parseIfMatch(value);
}

/**
 * An update or patch of `/fhir/{type}/{id}`: the URL is checked before the body is read (so an
 * unknown type is a 404 and a bad id a 400 whatever the body), then the version is answered per
 * `Prefer`, with `Location` when the write created the resource.
 */
async function writeInstance(
  request: FastifyRequest,
  reply: FastifyReply,
  { service, context }: RouteDeps,
  write: (ctx: RequestContext, type: string, id: string, ifMatch: number | undefined) => Promise<WriteResult>,
): Promise<unknown> {
  const { type, id } = request.params as Params;
  const ctx = context(request);
  service.assertResourceType(type);
  service.assertId(id);
  const result = await write(ctx, type, id, ifMatchOf(request.headers['if-match']));
  return sendWritten(request, reply, result.created ? 201 : 200, result.version, ctx.fhirBaseUrl, { location: result.created });
}

export const instanceRoutes: FhirRoute[] = [
  {
    method: 'GET',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'read' }],
    async handler(request, reply, { service, context }) {
      const { type, id } = request.params as Params;
      const version = await service.read(context(request), type, id);
      setVersionHeaders(reply, version);
      return sendJson(request, reply, 200, version.content!);
    },
  },
  {
    method: 'GET',
    url: '/fhir/:type/:id/_history/:vid',
    capabilities: [{ level: 'type', interaction: 'vread' }],
    async handler(request, reply, { service, context }) {
      const { type, id, vid } = request.params as Params;
      const version = await service.vread(context(request), type, id, vid);
      setVersionHeaders(reply, version);
      return sendJson(request, reply, 200, version.content!);
    },
  },
  {
    method: 'PUT',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'update' }],
    body: 'typed',
    handler: (request, reply, deps) => writeInstance(request, reply, deps, async (ctx, type, id, ifMatch) =>
      deps.service.update(ctx, type, id, await readTypedBody(request, type, deps.config.limits.resource.maxRepeats), { ifMatch })),
  },
  {
    method: 'PATCH',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'patch' }],
    handler: (request, reply, deps) => writeInstance(request, reply, deps, (ctx, type, id, ifMatch) =>
      deps.service.patch(ctx, type, id, readPatchBody(request), { ifMatch })),
  },
  {
    method: 'DELETE',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'delete' }],
    async handler(request, reply, { service, context }) {
      const { type, id } = request.params as Params;
      const ifMatch = ifMatchOf(request.headers['if-match']);
      const result = await service.delete(context(request), type, id, { ifMatch });
      reply.header('ETag', `W/"${result.version.versionId}"`);
      const message = result.changed ? `${type}/${id} deleted` : `${type}/${id} was already deleted`;
      return sendOutcome(request, reply, 200, allOk(message));
    },
  },
];

/** The query string of a request (conditional criteria), without the leading `?`. */
function criteriaOf(url: string): string {
  const index = url.indexOf('?');
  return index < 0 ? '' : url.slice(index + 1);
}

/** Conditional update and delete on the type URL (https://hl7.org/fhir/R4/http.html#cond-update). */
export const conditionalRoutes: FhirRoute[] = [
  {
    method: 'PUT',
    url: '/fhir/:type',
    capabilities: [],
    body: 'typed',
    async handler(request, reply, { service, context, config }) {
      const { type } = request.params as Params;
      const ctx = context(request);
      service.assertResourceType(type);
      const ifMatch = ifMatchOf(request.headers['if-match']);
      const body = await readTypedBody(request, type, config.limits.resource.maxRepeats);
      const result = await service.conditionalUpdate(ctx, type, criteriaOf(request.url), body, { ifMatch });
      return sendWritten(request, reply, result.created ? 201 : 200, result.version, ctx.fhirBaseUrl, { location: result.created });
    },
  },
  {
    method: 'DELETE',
    url: '/fhir/:type',
    capabilities: [],
    async handler(request, reply, { service, context }) {
      const { type } = request.params as Params;
      const result = await service.conditionalDelete(context(request), type, criteriaOf(request.url));
      if (result) reply.header('ETag', `W/"${result.version.versionId}"`);
      return sendOutcome(request, reply, 200, allOk(result ? `${type}/${result.version.id} deleted` : 'No resource matched the criteria; nothing was deleted'));
    },
  },
];
