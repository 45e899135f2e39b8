/**
 * Instance-level interactions: read, vread, update (and update-as-create), patch, delete.
 * https://hl7.org/fhir/R4/http.html#read … #delete
 */
import { allOk } from '../../fhir/outcomes.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../service/request-context.ts';
import type { WriteResult } from '../../service/write-ops.ts';
import type { ReadShapeParams } from '../../service/fhir-service.ts';
import type { StoredVersion } from '../../store/resource-repository.ts';
import { isNotModified } from '../conditional-read.ts';
import type { FhirRoute, Params, Query, RouteDeps } from '../fhir-route.ts';
import { readPatchBody, typedBodySource } from '../request-body.ts';
import { queryOf } from '../request-url.ts';
import { sendJson, sendOutcome, sendWritten, setVersionHeaders } from '../reply.ts';

/** The `If-Match` header's text (the service parses it once the interaction has opened). */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return Array.isArray(value) ? value[0] : value;
}

/** `_summary` and `_elements` of a read (the last value of each, as sent). */
export function shapeOf(request: FastifyRequest): ReadShapeParams {
  const query = request.query as Query;
  const last = (value: string | string[] | undefined) => (Array.isArray(value) ? value[value.length - 1] : value);
  return { summary: last(query._summary), elements: last(query._elements) };
}

/** Answers a read or vread: 304 when the client's copy is current, else the resource. */
function sendRead(request: FastifyRequest, reply: FastifyReply, version: StoredVersion): FastifyReply {
  setVersionHeaders(reply, version);
  if (isNotModified(request, version)) return reply.code(304).send();
  return sendJson(request, reply, 200, version.content!);
}

/**
 * An update or patch of `/fhir/{type}/{id}`: the body is read by the service once the URL and the
 * caller are checked (so an unknown type is a 404 and a bad id a 400 whatever the body), then the
 * version is answered per `Prefer`, with `Location` when the write created the resource.
 */
async function writeInstance(
  request: FastifyRequest,
  reply: FastifyReply,
  { context }: RouteDeps,
  write: (ctx: RequestContext, type: string, id: string, ifMatch: string | undefined) => Promise<WriteResult>,
): Promise<unknown> {
  const { type, id } = request.params as Params;
  const ctx = context(request);
  const result = await write(ctx, type, id, ifMatchOf(request));
  return sendWritten(request, reply, result.created ? 201 : 200, result.version, ctx.fhirBaseUrl, { location: result.created });
}

/** `PUT /fhir/{type}/{id}` with a FHIR JSON body (also the FHIR JSON side of `PUT /fhir/Binary/{id}`). */
export const updateHandler: FhirRoute['handler'] = (request, reply, deps) => writeInstance(request, reply, deps, async (ctx, type, id, ifMatch) =>
  deps.service.update(ctx, type, id, await typedBodySource(request, type, deps.config.limits.resource.maxRepeats), { ifMatch }));

export const instanceRoutes: FhirRoute[] = [
  {
    method: 'GET',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'read' }],
    async handler(request, reply, { service, context }) {
      const { type, id } = request.params as Params;
      return sendRead(request, reply, await service.read(context(request), type, id, shapeOf(request)));
    },
  },
  {
    method: 'GET',
    url: '/fhir/:type/:id/_history/:vid',
    capabilities: [{ level: 'type', interaction: 'vread' }],
    async handler(request, reply, { service, context }) {
      const { type, id, vid } = request.params as Params;
      return sendRead(request, reply, await service.vread(context(request), type, id, vid, shapeOf(request)));
    },
  },
  {
    method: 'PUT',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'update' }],
    body: 'typed',
    handler: updateHandler,
  },
  {
    method: 'PATCH',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'patch' }],
    handler: (request, reply, deps) => writeInstance(request, reply, deps, (ctx, type, id, ifMatch) =>
      deps.service.patch(ctx, type, id, () => readPatchBody(request), { ifMatch })),
  },
  {
    method: 'DELETE',
    url: '/fhir/:type/:id',
    capabilities: [{ level: 'type', interaction: 'delete' }],
    async handler(request, reply, { service, context }) {
      const { type, id } = request.params as Params;
      const result = await service.delete(context(request), type, id, { ifMatch: ifMatchOf(request) });
      reply.header('ETag', `W/"${result.version.versionId}"`);
      const message = result.changed ? `${type}/${id} deleted` : `${type}/${id} was already deleted`;
      return sendOutcome(request, reply, 200, allOk(message));
    },
  },
];

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
      const body = await typedBodySource(request, type, config.limits.resource.maxRepeats);
      const result = await service.conditionalUpdate(ctx, type, queryOf(request.url), body, { ifMatch: ifMatchOf(request) });
      return sendWritten(request, reply, result.created ? 201 : 200, result.version, ctx.fhirBaseUrl, { location: result.created });
    },
  },
  {
    method: 'DELETE',
    url: '/fhir/:type',
    capabilities: [],
    async handler(request, reply, { service, context }) {
      const { type } = request.params as Params;
      const result = await service.conditionalDelete(context(request), type, queryOf(request.url));
      if (result) reply.header('ETag', `W/"${result.version.versionId}"`);
      return sendOutcome(request, reply, 200, allOk(result ? `${type}/${result.version.id} deleted` : 'No resource matched the criteria; nothing was deleted'));
    },
  },
];
