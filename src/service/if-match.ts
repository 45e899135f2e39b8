/**
 * Parsing an `If-Match` ETag (`W/"3"` or `"3"`) into a version number
 * (https://hl7.org/fhir/R4/http.html#concurrency).
 */
import { badRequest } from '../fhir/outcomes.ts';

const ETAG = /^\s*(?:W\/)?"([1-9][0-9]{0,8})"\s*$/;

/** The version an ETag names; 400 for anything that is not a version ETag. */
export function parseIfMatch(value: string): number {
  const m = ETAG.exec(value);
  if (!m) throw badRequest(`If-Match "${value.slice(0, 40)}" is not a version ETag such as W/"1"`);
  return Number(m[1]);
}
