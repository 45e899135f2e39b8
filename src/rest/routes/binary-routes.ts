/**
 * `Binary` content over REST (https://hl7.org/fhir/R4/http.html#binary,
 * https://hl7.org/fhir/R4/binary.html). These routes take precedence over the generic
 * `/fhir/{type}/…` ones for the type `Binary` only, and hand FHIR JSON requests back to them:
 *
 * - `POST /fhir/Binary`, `PUT /fhir/Binary/{id}` with a body of any non-FHIR media type store the
 *   body as the Binary's content (streamed into the database), `contentType` = the request's
 *   Content-Type, `securityContext` = the `X-Security-Context` header; a FHIR JSON body is an
 *   ordinary create or update (its `data` stored as bytes all the same).
 * - `GET /fhir/Binary/{id}` and `…/_history/{vid}` answer the content itself, streamed, unless
 *   `Accept` or `_format` asks for FHIR JSON (negotiate.ts: `wantsBinaryResource`), which gets
 *   the resource with `data` in base64, streamed too.
 *
 * They add no capability of their own (the generic routes declare read, vread, create, update).
 */
import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../fhir/outcomes.ts';
import type { BinaryUpload } from '../../service/binary/binary-service.ts';
import type { FhirRoute, Params } from '../fhir-route.ts';
import { wantsBinaryResource } from '../negotiate.ts';
import { sendWritten } from '../reply.ts';
import { takesRawBinary } from '../request-body.ts';
import { sendBinaryContent, sendBinaryResource } from '../send-binary.ts';
import { ifMatchOf, shapeOf, updateHandler } from './instance-routes.ts';
import { createHandler } from './type-routes.ts';

/** The raw upload a request carries: its body as it arrives, its media type, its security context. */
function uploadOf(request: FastifyRequest): BinaryUpload {
  if (request.headers['if-none-exist'] !== undefined) {
    throw badRequest('If-None-Exist (conditional create) is not supported on a raw Binary upload; send the Binary as FHIR JSON');
  }
  const contentType = request.headers['content-type']?.trim() || 'application/octet-stream';
  const securityContext = request.headers['x-security-context'];
  const body = request.body;
  // Media types that have parsers of their own (a form) arrive as text, bounded by those parsers' limits.
  const content = typeof body === 'string' || Buffer.isBuffer(body)
    ? (async function* () { yield Buffer.from(body); })()
    : (body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
  return { contentType, securityContext: Array.isArray(securityContext) ? securityContext[0] : securityContext, content };
}

/** A read or vread: the content itself, or the resource as FHIR JSON. */
const readHandler: FhirRoute['handler'] = async (request, reply, { service, context }) => {
  const { id, vid } = request.params as Params;
  const asResource = wantsBinaryResource(request.headers.accept, (request.query as Record<string, unknown> | undefined)?._format);
  const read = await service.binary.read(context(request), id, vid, asResource ? shapeOf(request) : {});
  const chunks = (as: 'bytes' | 'base64') => service.binary.chunks(read.bytes!, as);
  return asResource ? sendBinaryResource(request, reply, read, chunks) : sendBinaryContent(request, reply, read, chunks);
};

/**
 * The type segment matches `Binary` only, the id segment valid FHIR ids only: `/fhir/Binary/_history`
 * (and an invalid id, which answers 400 there) still reach the generic routes.
 */
const TYPE = ':type(^Binary$)';
const ID = ':id(^[A-Za-z0-9.-]{1,64}$)';

export const binaryRoutes: FhirRoute[] = [
  { method: 'GET', url: `/fhir/${TYPE}/${ID}`, capabilities: [], binary: true, handler: readHandler },
  { method: 'GET', url: `/fhir/${TYPE}/${ID}/_history/:vid`, capabilities: [], binary: true, handler: readHandler },
  {
    method: 'POST',
    url: `/fhir/${TYPE}`,
    capabilities: [],
    binary: true,
    async handler(request, reply, deps) {
      if (!takesRawBinary(request)) return createHandler(request, reply, deps);
      const ctx = deps.context(request);
      const result = await deps.service.binary.create(ctx, uploadOf(request));
      return sendWritten(request, reply, 201, result.version, ctx.fhirBaseUrl, { location: true });
    },
  },
  {
    method: 'PUT',
    url: `/fhir/${TYPE}/${ID}`,
    capabilities: [],
    binary: true,
    async handler(request, reply, deps) {
      if (!takesRawBinary(request)) return updateHandler(request, reply, deps);
      const ctx = deps.context(request);
      const { id } = request.params as Params;
      const result = await deps.service.binary.update(ctx, id, uploadOf(request), ifMatchOf(request));
      return sendWritten(request, reply, result.created ? 201 : 200, result.version, ctx.fhirBaseUrl, { location: result.created });
    },
  },
];
