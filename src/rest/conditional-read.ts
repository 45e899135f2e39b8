/**
 * Conditional read (https://hl7.org/fhir/R4/http.html#cread): `If-None-Match` with the version's
 * weak ETag, or `If-Modified-Since` at or after its `Last-Modified`, answers 304 Not Modified
 * without a body, so a client revalidates its cached copy for the price of the headers. As RFC
 * 9110 §13.2.2 orders them, `If-None-Match` wins when both are sent; a date that does not parse
 * is ignored (§13.1.3). https://www.rfc-editor.org/rfc/rfc9110#name-if-none-match
 */
import type { FastifyRequest } from 'fastify';
import type { StoredVersion } from '../store/resource-repository.ts';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** True when an `If-None-Match` list names the version (weak comparison) or is `*`. */
function matchesEtag(list: string, versionId: number): boolean {
  return list.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value.replace(/^W\//, '') === `"${versionId}"`;
  });
}

/** True when the client's copy of `version` is current: answer 304. */
export function isNotModified(request: FastifyRequest, version: StoredVersion): boolean {
  const ifNoneMatch = header(request, 'if-none-match');
  if (ifNoneMatch !== undefined) return matchesEtag(ifNoneMatch, version.versionId);
  const ifModifiedSince = header(request, 'if-modified-since');
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // Last-Modified is sent in whole seconds.
  return !Number.isNaN(since) && Math.floor(version.lastUpdated.getTime() / 1000) * 1000 <= since;
}
