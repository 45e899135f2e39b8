/**
 * The one error normaliser of the graph: a {@link FhirError} becomes a GraphQL error whose
 * `extensions.code` names the class (`BAD_USER_INPUT`, `UNAUTHENTICATED`, `FORBIDDEN`,
 * `NOT_FOUND`, `CONFLICT`, …) and whose `extensions.outcome` carries the OperationOutcome;
 * anything unexpected becomes `INTERNAL_SERVER_ERROR` with no internals. It never throws.
 * https://spec.graphql.org/October2021/#sec-Errors
 */
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { FhirError, outcome } from '../fhir/outcomes.ts';

const CODES: Record<number, string> = {
  400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'BAD_REQUEST',
  409: 'CONFLICT', 410: 'GONE', 412: 'PRECONDITION_FAILED', 413: 'PAYLOAD_TOO_LARGE', 422: 'BAD_USER_INPUT',
  429: 'TOO_MANY_REQUESTS', 503: 'SERVICE_UNAVAILABLE',
};

/**
 * The `extensions.code` of a domain error: the error's own `code` when its class names one
 * (`CursorExpired`: `CURSOR_EXPIRED`), else the class of its status.
 */
function codeOf(err: FhirError): string {
  const own = (err as { code?: unknown }).code;
  return typeof own === 'string' ? own : CODES[err.status] ?? 'BAD_REQUEST';
}

/** A GraphQL error for a domain error (thrown from resolvers). */
export function toGraphQLError(err: FhirError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: { code: codeOf(err), status: err.status, outcome: err.outcome },
  });
}

/**
 * A GraphQL error for a domain error raised before execution (a refused operation has no data):
 * the response also takes the error's HTTP status and headers (429 with `Retry-After`). Errors
 * raised by resolvers never set the status, so partial data stays a 200.
 */
export function toRequestError(err: FhirError, message = err.message): GraphQLError {
  const { extensions } = toGraphQLError(err);
  const headers = new HeaderMap(Object.entries(err.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return new GraphQLError(message, { extensions: { ...extensions, http: { status: err.status, headers } } });
}

/** A `FORBIDDEN` error for a reference the token may not follow. */
export function forbiddenError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', status: 403, outcome: outcome('error', 'forbidden', message) } });
}

/** Apollo's `formatError`: keeps client-safe errors, hides everything else. */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  if (original instanceof FhirError) {
    const converted = toGraphQLError(original);
    return { ...formatted, message: converted.message, extensions: converted.extensions };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
    const { stacktrace: _hidden, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
