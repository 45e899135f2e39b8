/**
 * The request URL as the REST facade reads it: the trailing slash some clients add (`POST /fhir/`
 * from fhir-kit-client's `transaction()` and fhirclient, `/fhir/Patient/`), the query string's
 * percent-encoding, checked once before any route reads it, and the query's parameters in order.
 * https://hl7.org/fhir/R4/http.html#general  https://www.rfc-editor.org/rfc/rfc3986#section-2.1
 */
import { badRequest } from '../fhir/outcomes.ts';

/** A `%` not followed by two hex digits. */
const BROKEN_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** A request target in absolute form (`GET http://host/fhir/Patient`, RFC 9112 §3.2.2). */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * Fastify's `rewriteUrl`: a target in absolute form becomes its path and query, as every check
 * reads (the router already matched it that way, so the FHIR path checks could be skipped), and
 * `/fhir/…/` routes as `/fhir/…` (the query string kept). Other paths keep their slash.
 */
export function normaliseRequestUrl(url: string): string {
  if (!url.startsWith('/')) {
    const rest = url.replace(ABSOLUTE_FORM, '');
    url = rest.startsWith('/') ? rest : `/${rest}`;
  }
  if (!url.startsWith('/fhir/')) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  if (!path.endsWith('/')) return url;
  let end = path.length;
  while (end > '/fhir'.length && path[end - 1] === '/') end--;
  return path.slice(0, end) + (queryAt < 0 ? '' : url.slice(queryAt));
}

/** The query string of a URL, without the leading `?` (empty when there is none). */
export function queryOf(url: string): string {
  const index = url.indexOf('?');
  return index < 0 ? '' : url.slice(index + 1);
}

/**
 * Throws 400 when the query string holds a broken percent-encoding (`%ZZ`, a cut `%A`, bytes that
 * are not UTF-8): decoders would silently turn it into U+FFFD and search for that.
 */
export function assertWellEncodedQuery(url: string): void {
  const query = queryOf(url);
  if (!query.includes('%')) return;
  let broken = BROKEN_ESCAPE.test(query);
  if (!broken) {
    try {
      decodeURIComponent(query);
    } catch {
      broken = true;
    }
  }
  if (broken) throw badRequest('The query string is not valid: a percent-encoded character is broken (percent-encode UTF-8 bytes as %XX)');
}

/** The query's parameters in order, repeats kept (`application/x-www-form-urlencoded` rules). */
export function queryParams(url: string): [string, string][] {
  return [...new URLSearchParams(queryOf(url))];
}
