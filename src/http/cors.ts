/**
 * CORS for browser apps (https://fetch.spec.whatwg.org/#http-cors-protocol) on the API paths
 * (`/graphql`, `/fhir`, `/auth`, `/bulk`) only: the pages of the origins in `CORS_ORIGINS` (or
 * any, with `*`) may call the API with a bearer token, send the FHIR request headers, and read the
 * headers a FHIR client needs. No cookies are involved (tokens travel in `Authorization`), so
 * credentials mode is never allowed.
 *
 * A preflight (`OPTIONS`) is answered 204 by an `onRequest` hook registered before the
 * authentication hook: it needs no token, so it is neither refused and audited nor charged to a
 * rate limit. An origin that is not allowed gets the same 204 without
 * `Access-Control-Allow-Origin`, which the browser reads as a refusal.
 *
 * The hook is ours rather than `@fastify/cors`'s: with options chosen per path, that plugin
 * rebuilt and copied its whole option set on every request (~3% of a read by id's CPU). Here the
 * header values are joined once, at start; the answers are the plugin's, header for header:
 * `Vary: Origin` on every response (the answer depends on the origin), the allowed origin
 * reflected (or `*`), the exposed headers on every API response, and the preflight headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Request headers a browser app may send: the token, FHIR's conditional and `Prefer` headers, Apollo's CSRF headers. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization', 'Content-Type', 'Accept', 'Prefer', 'If-Match', 'If-None-Match', 'If-Modified-Since', 'If-None-Exist',
  'X-Apollo-Operation-Name', 'Apollo-Require-Preflight',
];

/** Response headers a browser app may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = [
  'Location', 'ETag', 'Content-Location', 'Last-Modified', 'X-Progress', 'Retry-After', 'WWW-Authenticate', 'Allow',
  'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy', 'X-Request-Id',
];

/** Methods a preflight allows. */
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** How long a browser may keep a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE = 600;

/** True for the paths that serve browser apps. */
function isApiPath(url: string): boolean {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  return path === '/graphql' || path === '/fhir' || path.startsWith('/fhir/') || path.startsWith('/auth/') || path.startsWith('/bulk/');
}

/** Adds `Origin` to the response's `Vary` list (unless it is there already, or `*`). */
function varyOnOrigin(reply: FastifyReply): void {
  const current = reply.getHeader('Vary');
  if (!current) {
    reply.header('Vary', 'Origin');
    return;
  }
  const list = Array.isArray(current) ? current.join(', ') : String(current);
  const names = list.toLowerCase().split(',').map((name) => name.trim());
  if (names.includes('*')) reply.header('Vary', '*');
  else if (!names.includes('origin')) reply.header('Vary', `${list}, Origin`);
}

/**
 * Registers CORS on `app` for `origins` (`['*']`: any; `[]`: none); call it before the
 * authentication hook.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  const exposed = CORS_EXPOSED_HEADERS.join(', ');
  const methods = CORS_METHODS.join(', ');
  const allowedHeaders = CORS_ALLOWED_HEADERS.join(', ');
  const maxAge = String(PREFLIGHT_MAX_AGE);

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    varyOnOrigin(reply);
    if (!isApiPath(request.url)) return done();
    const origin = request.headers.origin;
    const allowOrigin = anyOrigin ? '*' : origin !== undefined && allowed.has(origin) ? origin : undefined;
    if (allowOrigin !== undefined) reply.header('Access-Control-Allow-Origin', allowOrigin);
    reply.header('Access-Control-Expose-Headers', exposed);
    if (request.raw.method !== 'OPTIONS') return done();
    // A preflight (with or without Origin: an OPTIONS without it is no preflight, but a 204 is
    // harmless) ends here, before authentication. Safari waits for a body without Content-Length.
    reply.header('Access-Control-Allow-Methods', methods);
    reply.header('Access-Control-Allow-Headers', allowedHeaders);
    reply.header('Access-Control-Max-Age', maxAge);
    reply.code(204).header('Content-Length', '0').send();
  });
  // OPTIONS needs a route to reach the hook at all; off the API paths it answers as an unknown
  // route. It is declared from a plugin sharing the root context, as `@fastify/cors` did, so it
  // loads now and keeps Fastify's own error handler (the one in force before build-app sets ours).
  const preflightRoute = async (root: FastifyInstance) => {
    root.options('*', (_request, reply) => {
      reply.callNotFound();
    });
  };
  (preflightRoute as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  await app.register(preflightRoute);
}
