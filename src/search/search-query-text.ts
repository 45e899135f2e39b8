/**
 * The name=value pairs of a search from its raw text: a URL's query string, or the
 * `application/x-www-form-urlencoded` body of `POST /fhir/{type}/_search`
 * (https://hl7.org/fhir/R4/http.html#search). Both meet `SEARCH_MAX_PARAMS` the same way, counted
 * in the text before any pair is decoded, so a body of many thousand pairs costs one scan of its
 * characters and no allocation before it is refused with 400.
 */
import type { SearchLimits } from '../config.ts';
import { tooCostly } from '../fhir/outcomes.ts';

/** The pairs `URLSearchParams` would make of `text`: its non-empty `&`-separated segments. */
export function countQueryPairs(text: string): number {
  let pairs = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) pairs++;
    start = end + 1;
  }
  return pairs;
}

/** The message of a search with too many parameters (also `parseSearch`'s). */
export function tooManyParams(count: number, limits: SearchLimits): Error {
  return tooCostly(`The search has ${count} parameters; at most ${limits.maxParams} are allowed`);
}

/**
 * The pairs of each text in order (repeats kept), refused with 400 `too-costly` when together they
 * hold more than `SEARCH_MAX_PARAMS`: counted before decoding, so the bound holds for a 64 KiB
 * form body just as for a query string.
 */
export function readSearchPairs(texts: string[], limits: SearchLimits): [string, string][] {
  let count = 0;
  for (const text of texts) count += countQueryPairs(text);
  if (count > limits.maxParams) throw tooManyParams(count, limits);
  return texts.flatMap((text) => [...new URLSearchParams(text)]);
}
