/**
 * The id of each HTTP request, on every log line of it and in its `X-Request-Id` answer header:
 * the client's own `X-Request-Id` when it is short and plain (so a caller can follow its request
 * through our logs), else a new random UUID. A value with other characters is never echoed into
 * a header or a log line.
 */
import { randomUUID } from 'node:crypto';

/** The header's name (Node lower-cases incoming header names). */
export const REQUEST_ID_HEADER = 'x-request-id';

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The id a request is known by: the client's `X-Request-Id` when safe, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
}
