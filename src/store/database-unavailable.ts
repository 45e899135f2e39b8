/**
 * Recognises the driver and pool errors that mean "the database cannot be reached right now"
 * (it is down, starting up, shutting down, out of connections, or the pool timed out waiting for
 * one), which the store answers with 503 and `Retry-After` rather than 500: the request may well
 * succeed if retried. https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { FhirError, outcome } from '../fhir/outcomes.ts';

/** What `Retry-After` says when the database is unavailable: long enough for a restart to finish. */
export const UNAVAILABLE_RETRY_AFTER_S = 3;

/**
 * Class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now ("the database system is starting up / shutting down"), 57P05
 * idle_session_timeout, 53300 too_many_connections.
 */
const SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '08007', '57P01', '57P02', '57P03', '57P05', '53300']);
/** Socket errors of a connection attempt or of a connection that broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
/** Errors `pg`, knex and tarn raise without a code. */
const MESSAGES = /Connection terminated|Connection ended unexpectedly|is not queryable|timeout expired|Timeout acquiring a connection/i;
const NAMES = new Set(['KnexTimeoutError', 'TimeoutError']);

/** True when `err` (from `pg`, knex or its pool) says the database is unreachable for now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message, errors } = err as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (SQLSTATES.has(code) || SOCKET_CODES.has(code))) return true;
  if (typeof name === 'string' && NAMES.has(name)) return true;
  if (typeof message === 'string' && typeof code !== 'string' && MESSAGES.test(message)) return true;
  // Node reports a refused connection to a name with several addresses as an AggregateError.
  return Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable);
}

/** The 503 answer to an unreachable database: a `transient` OperationOutcome with `Retry-After`. */
export function databaseUnavailable(): FhirError {
  return new FhirError(
    503,
    outcome('error', 'transient', 'The database is unavailable right now; retry later'),
    { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) },
  );
}
