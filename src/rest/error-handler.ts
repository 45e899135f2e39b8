/**
 * The REST facade's one catch-all: every error becomes an OperationOutcome with its status.
 * Client mistakes caught by Fastify (body too large, unsupported media type, malformed headers)
 * map to their 4xx; anything unexpected is logged without request data and answered 500 with
 * no internals. It never throws. Client errors (4xx) are not logged at all: their text may hold
 * what the client sent (a cursor, a search value).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, outcome } from '../fhir/outcomes.ts';
import { FHIR_JSON } from './negotiate.ts';

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'too-costly', 'The request body is larger than this server accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'not-supported', 'Unsupported Content-Type: send application/fhir+json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid', 'The request body is empty'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'not-supported', 'Invalid Content-Type header'],
};

/** Turns anything thrown while handling a request into a status and an OperationOutcome. */
export function normaliseError(err: unknown): FhirError {
  if (err instanceof FhirError) return err;
  const e = err as Partial<FastifyError> & { status?: number };
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) return new FhirError(known[0], outcome('error', known[1], known[2]));
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new FhirError(status, outcome('error', 'invalid', typeof e.message === 'string' ? e.message.slice(0, 200) : 'Bad request'));
  }
  return new FhirError(500, outcome('error', 'exception', 'Internal server error'));
}

/**
 * What a 5xx logs of its cause: PostgreSQL quotes the offending values in its messages
 * (`invalid input syntax for type numeric: "…"`), and those came from a client — or are PHI
 * (DECISIONS.md §11: statement text, not parameter values) — so quoted text is cut out.
 */
function loggable(err: unknown): { message?: string; stack?: string; code?: string } {
  const e = err as Partial<Error> & { code?: unknown };
  const redact = (text: string | undefined) => text?.replace(/"[^"\n]*"/g, '"…"');
  return { message: redact(e?.message), stack: redact(e?.stack), code: typeof e?.code === 'string' ? e.code : undefined };
}

/** Fastify error handler rendering {@link normaliseError}'s result. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const fhirError = normaliseError(err);
  request.errorSummary = fhirError.message.slice(0, 300);
  if (fhirError.status >= 500) {
    request.log.error({ err: loggable(err), route: request.routeOptions?.url }, 'request failed');
  }
  for (const [name, value] of Object.entries(fhirError.headers)) reply.header(name, value);
  reply.code(fhirError.status).type(FHIR_JSON).send(JSON.stringify(fhirError.outcome));
}
