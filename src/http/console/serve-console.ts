/**
 * `GET /console` and its files: the operator console, a page served without a token (the data
 * behind it needs an admin client's access token, which the page asks for), from the manifest
 * built at start (`console-assets.ts`). Every answer carries a Content-Security-Policy without
 * inline script, `frame-ancestors 'none'`, and the other headers that keep the page from being
 * framed, sniffed or leaking its URL (https://www.w3.org/TR/CSP3/).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../../fhir/outcomes.ts';
import { loadConsoleAssets, type ConsoleAsset } from './console-assets.ts';

/** The console's paths: the page itself, and its files under this prefix. */
export const CONSOLE_PATH = '/console';
export const CONSOLE_PREFIX = '/console/';

/** The headers of every console answer, the 404s included. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self' data:",
    "connect-src 'self'", "worker-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** Whether a request path is the console's (public: the authentication hook lets it through). */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(CONSOLE_PREFIX);
}

/**
 * Registers the console's routes. A path outside the manifest, an encoded `..` included, is a
 * 404 (the router decodes the path; the manifest lookup is an exact match, never a file name).
 */
export function registerConsole(app: FastifyInstance, assets: Map<string, ConsoleAsset> = loadConsoleAssets()): void {
  const send = (url: string, reply: FastifyReply) => {
    reply.headers(CONSOLE_HEADERS);
    const asset = assets.get(url);
    if (!asset) {
      const detail = assets.size === 0 ? 'The console is not built: run `npm run build:console`' : `No console file ${url.slice(0, 200)}`;
      throw notFound(detail);
    }
    return reply.code(200).header('content-type', asset.contentType).header('cache-control', asset.cacheControl).send(asset.body);
  };
  app.get(CONSOLE_PATH, async (_request, reply) => send(CONSOLE_PATH, reply));
  app.get(`${CONSOLE_PREFIX}*`, async (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    return send(file === '' ? CONSOLE_PATH : `${CONSOLE_PREFIX}${file}`, reply);
  });
}
