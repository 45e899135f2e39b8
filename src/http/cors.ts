/**
 * CORS for browser apps (https://fetch.spec.whatwg.org/#http-cors-protocol), with
 * `@fastify/cors`, on the API paths (`/graphql`, `/fhir`, `/auth`, `/bulk`) only: the pages of the origins
 * in `CORS_ORIGINS` (or any, with `*`) may call the API with a bearer token, send the FHIR request
 * headers, and read the headers a FHIR client needs. No cookies are involved (tokens travel in
 * `Authorization`), so credentials mode is never allowed.
 *
 * A preflight (`OPTIONS`) is answered 204 by the plugin's `onRequest` hook, registered before the
 * authentication hook: it needs no token, so it is neither refused and audited nor charged to a
 * rate limit. An origin that is not allowed gets the same 204 without
 * `Access-Control-Allow-Origin`, which the browser reads as a refusal.
 */
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Request headers a browser app may send: the token, FHIR's conditional and `Prefer` headers, Apollo's CSRF headers. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization', 'Content-Type', 'Accept', 'Prefer', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-None-Exist',
  'X-Apollo-Operation-Name', 'Apollo-Require-Preflight',
];

/** Response headers a browser app may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = [
  'Location', 'ETag', 'Content-Location', 'Last-Modified', 'X-Progress', 'Retry-After', 'WWW-Authenticate', 'Allow',
  'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy',
];

/** How long a browser may keep a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE = 600;

/** True for the paths that serve browser apps. */
function isApiPath(url: string): boolean {
  const path = url.split('?', 1)[0];
  return path === '/graphql' || path === '/fhir' || path.startsWith('/fhir/') || path.startsWith('/auth/') || path.startsWith('/bulk/');
}

/** Registers CORS on `app` for `origins` (`['*']`: any; `[]`: none); call it before the authentication hook. */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  const api: FastifyCorsOptions = {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE,
    // An OPTIONS without Origin is no preflight, but answering it 204 is harmless and keeps
    // the plugin's own text/plain 400 off the FHIR paths.
    strictPreflight: false,
  };
  const off: FastifyCorsOptions = { origin: false };
  await app.register(cors, {
    hook: 'onRequest',
    delegator: (request: FastifyRequest, callback) => callback(null, isApiPath(request.url) ? api : off),
  });
}
