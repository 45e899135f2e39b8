/**
 * Body limits by route: a Bundle (a batch or transaction posted to the base, or a `Bundle`
 * resource) may take `MAX_BODY` and is read entry by entry in time slices; every other body
 * (a resource, a JSON Patch, `$validate`, GraphQL, the admin API) is parsed and validated in one
 * go, so it gets the much smaller `MAX_RESOURCE_BODY` (the app's default), forms `MAX_FORM_BODY`.
 * A route whose URL names the type (`POST /fhir/{type}`, `PUT /fhir/{type}/{id}`, …) takes
 * `MAX_BODY` when that type is `Bundle` and `MAX_RESOURCE_BODY` for any other, checked from
 * `Content-Length` before a byte is read, or counted as a chunked body arrives. Beyond: 413.
 * The `Binary` routes (binary-routes.ts) take a body of any other media type as the Binary's raw
 * content, handed to the handler as a stream: up to `MAX_BINARY`, checked from `Content-Length`
 * here and counted as it is stored (src/store/binary-store.ts).
 */
import { Transform } from 'node:stream';
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Config } from '../config.ts';
import { payloadTooLarge } from '../fhir/outcomes.ts';
import type { RouteBody } from '../rest/fhir-route.ts';
import { takesRawBinary } from '../rest/request-body.ts';
import { binaryTooLarge } from '../store/binary-store.ts';

/** `MAX_RESOURCE_BODY`, or `MAX_BODY` should that be smaller: the limit of every body but a Bundle's. */
export function resourceBodyLimit(config: Config): number {
  return Math.min(config.maxResourceBodyBytes, config.maxBodyBytes);
}

/** The route's own body options for what it takes (`FhirRoute.body`). */
export function bodyOptions(body: RouteBody | undefined, config: Config): RouteShorthandOptions {
  if (!body) return {};
  const options: RouteShorthandOptions = { bodyLimit: config.maxBodyBytes, config: { body } };
  if (body === 'typed') options.preParsing = capUnlessBundle(resourceBodyLimit(config));
  return options;
}

/** True when the request's route reads its body as a Bundle, entry by entry. */
export function takesBundle(request: FastifyRequest): boolean {
  const body = (request.routeOptions.config as { body?: RouteBody } | undefined)?.body;
  return body === 'bundle' || (body === 'typed' && (request.params as { type?: string } | undefined)?.type === 'Bundle');
}

/**
 * The options of a `Binary` route: no compression (the content is served as stored, with its
 * exact length), the long deadline of large transfers (request-scope.ts), and for a write, raw
 * content up to `MAX_BINARY` or a FHIR JSON body up to `MAX_RESOURCE_BODY`.
 */
export function binaryRouteOptions(config: Config, withBody: boolean): RouteShorthandOptions {
  const options: RouteShorthandOptions = { compress: false, config: { binary: true, ...(withBody ? { body: 'typed' } : {}) } };
  if (!withBody) return options;
  const capJson = capUnlessBundle(resourceBodyLimit(config));
  options.preParsing = async (request: FastifyRequest, reply: unknown, payload: NodeJS.ReadableStream) => {
    if (!takesRawBinary(request)) return capJson(request, reply, payload);
    if (Number(request.headers['content-length']) > config.maxBinaryBytes) throw binaryTooLarge(config.maxBinaryBytes);
    return payload;
  };
  return options;
}

function tooLarge(limit: number): Error {
  return payloadTooLarge(`The request body is larger than this server accepts for a resource: ${limit} bytes (MAX_RESOURCE_BODY); only a Bundle may take up to MAX_BODY`);
}

/** A `preParsing` hook holding a body to `limit` bytes unless the URL's type is `Bundle`. */
function capUnlessBundle(limit: number) {
  return async (request: FastifyRequest, _reply: unknown, payload: NodeJS.ReadableStream) => {
    if (takesBundle(request)) return payload;
    const declared = Number(request.headers['content-length']);
    if (declared > limit) throw tooLarge(limit);
    if (Number.isFinite(declared)) return payload;
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(received > limit ? tooLarge(limit) : null, chunk);
      },
    });
    payload.on('error', (err) => counted.destroy(err));
    return payload.pipe(counted);
  };
}
