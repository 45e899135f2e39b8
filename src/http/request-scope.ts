/**
 * Bounds the database work and the time of every HTTP request (REST, GraphQL, auth): each route's
 * handler runs in a {@link QueryScope} whose statements get `STATEMENT_TIMEOUT`, which holds at
 * most `DB_REQUEST_CONNECTIONS` pooled connections at once, whose client's requests together hold
 * at most `DB_CLIENT_CONNECTIONS`, and whose signal aborts when the client's connection closes
 * before the answer was sent — so a client that gives up on a slow search frees its PostgreSQL
 * backend at once instead of leaving the statement running — or when the request runs past
 * `REQUEST_TIMEOUT` (a request carrying a Bundle of up to `MAX_BODY`, or Binary content of up to
 * `MAX_BINARY`, `BUNDLE_TIMEOUT_FACTOR` times that): its running statement is cancelled and it answers 503 (`timeout`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { FhirError, outcome } from '../fhir/outcomes.ts';
import { handleError } from '../rest/error-handler.ts';
import { ClientConnectionSlots, ConnectionSlots, type SlotWait } from '../store/connection-slots.ts';
import { runInQueryScope, type QueryScope } from '../store/query-scope.ts';
import { ScopeCancel } from '../store/scope-cancel.ts';
import { takesBundle } from './body-limits.ts';
import { servesBinary } from '../rest/request-body.ts';

/** What bounds a request's database work and time (README "Limits"). */
export interface RequestQueryLimits {
  /** `STATEMENT_TIMEOUT` (ms, 0 = none). */
  statementTimeoutMs: number;
  /** `DB_REQUEST_CONNECTIONS`. */
  connections: number;
  /** `DB_CLIENT_CONNECTIONS`. */
  clientConnections: number;
  /** How long a statement waits for one of its client's slots (`DB_ACQUIRE_TIMEOUT_MS`). */
  clientWaitMs: number;
  /** `REQUEST_TIMEOUT` (ms, 0 = none). */
  requestTimeoutMs: number;
  /** The deadline of a request carrying a Bundle of up to `MAX_BODY` (ms, 0 = none). */
  bundleTimeoutMs: number;
}

/** `Retry-After` of a refusal that a retry a moment later may not meet. */
const RETRY_AFTER_S = '1';
/**
 * After its deadline a request's statements and waits for connections end at once; a handler
 * waiting on something else (a GraphQL gate, the schema worker) is answered for after this long.
 */
const DEADLINE_GRACE_MS = 1_000;

/** 503: the client's requests already hold all of its connections, and one did not come free in time. */
function clientBusy(limit: number): FhirError {
  return new FhirError(503, outcome('error', 'transient',
    `This client's requests already hold the ${limit} database connections one client may use at once (DB_CLIENT_CONNECTIONS); retry later`),
  { 'Retry-After': RETRY_AFTER_S });
}

/** 503: the request ran past `REQUEST_TIMEOUT` and was cancelled. */
function requestTimedOut(ms: number): FhirError {
  return new FhirError(503, outcome('error', 'timeout', `The request timed out: it took longer than ${ms} ms (REQUEST_TIMEOUT) and was cancelled`),
    { 'Retry-After': RETRY_AFTER_S });
}

/** Keeps a handler that went on after its deadline's answer from sending a second one. */
function muteLateReplies(reply: FastifyReply): void {
  (reply as unknown as { send: () => FastifyReply }).send = () => reply;
}

/**
 * Settles with `work`, or, when `ms` pass first, aborts the request's scope with the timeout
 * error (cancelling its statements, which then fail with it) and, should the handler still not
 * have answered after a grace period, answers that error itself.
 */
function withDeadline(work: Promise<unknown>, ms: number, cancel: ScopeCancel, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      const timedOut = requestTimedOut(ms);
      cancel.abort(timedOut);
      grace = setTimeout(() => {
        if (!reply.sent) {
          handleError(timedOut, request, reply);
          muteLateReplies(reply);
        }
        resolve(reply);
      }, DEADLINE_GRACE_MS);
    }, ms);
    const settle = () => {
      clearTimeout(deadline);
      clearTimeout(grace);
    };
    work.then((value) => { settle(); resolve(value); }, (err: unknown) => { settle(); reject(err); });
  });
}

/**
 * The scope of work a client asked for outside an HTTP request (a subscription's event executed
 * for its WebSocket): the same statement timeout, connections and client slots as a request, and
 * `REQUEST_TIMEOUT`; `signal` aborts it early (the socket closed). `leave()` when the work ends.
 */
export type ClientWorkScope = (clientId: string, signal: AbortSignal) => { scope: QueryScope; leave(): void };

/**
 * Wraps every route registered on `app` from now on; call it before registering routes. Returns
 * the opener of {@link ClientWorkScope}s, which share each client's slots with its requests.
 */
export function scopeRequestQueries(app: FastifyInstance, limits: RequestQueryLimits): ClientWorkScope {
  const clients = new ClientConnectionSlots(limits.clientConnections);
  const clientWait: SlotWait = { timeoutMs: limits.clientWaitMs, refused: () => clientBusy(limits.clientConnections) };
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function scopedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const cancel = new ScopeCancel();
      const response = reply.raw;
      response.once('close', () => {
        if (!response.writableFinished) cancel.abort();
      });
      // The authentication hook has run: a request with a client shares that client's slots.
      const clientId = request.fhirContext?.auth.clientId;
      const client = clientId === undefined ? undefined : clients.enter(clientId);
      const scope: QueryScope = {
        cancel,
        statementTimeoutMs: limits.statementTimeoutMs,
        connections: new ConnectionSlots(limits.connections),
        client: client && { slots: client.slots, wait: clientWait },
        ended: false,
      };
      const work = runInQueryScope(scope, () => handler.call(this, request, reply));
      // A Bundle of up to MAX_BODY, and Binary content of up to MAX_BINARY, take longer than one interaction.
      const deadline = takesBundle(request) || servesBinary(request) ? limits.bundleTimeoutMs : limits.requestTimeoutMs;
      const bounded = deadline > 0 ? withDeadline(work, deadline, cancel, request, reply) : work;
      return bounded.finally(() => client?.leave());
    } as RouteHandlerMethod;
  });
  return (clientId, signal) => {
    const cancel = new ScopeCancel();
    const abort = () => cancel.abort(signal.reason);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    const deadline = limits.requestTimeoutMs > 0 ? setTimeout(() => cancel.abort(requestTimedOut(limits.requestTimeoutMs)), limits.requestTimeoutMs) : undefined;
    const client = clients.enter(clientId);
    const scope: QueryScope = {
      cancel,
      statementTimeoutMs: limits.statementTimeoutMs,
      connections: new ConnectionSlots(limits.connections),
      client: { slots: client.slots, wait: clientWait },
      ended: false,
    };
    return {
      scope,
      leave: () => {
        clearTimeout(deadline);
        signal.removeEventListener('abort', abort);
        client.leave();
      },
    };
  };
}
