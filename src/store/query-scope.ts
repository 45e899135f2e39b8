/**
 * The API request a statement serves, carried through async context like the statement counter:
 * the HTTP layer runs each request's handler inside {@link runInQueryScope}, and the store bounds
 * every statement sent on its behalf — REST and GraphQL alike, loaders and batches included — by
 * the scope's `statement_timeout` and cancels it when the scope's signal aborts (the client went
 * away). Statements outside any scope (CLI commands, migrations, background flushes) are not
 * bounded. https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { FhirError, clientClosedRequest } from '../fhir/outcomes.ts';
import type { ConnectionSlots, SlotWait } from './connection-slots.ts';
import type { ScopeCancel } from './scope-cancel.ts';
import { runOutsideSpans, tracingOn } from '../telemetry/tracing/index.ts';

export interface QueryScope {
  /**
   * Aborts when the request's client disconnects before its answer, or when the request runs
   * past `REQUEST_TIMEOUT`; the abort's `reason` is then the {@link FhirError} to answer with.
   */
  readonly cancel: ScopeCancel;
  /** `statement_timeout` of the request's statements in milliseconds; 0 = none. */
  readonly statementTimeoutMs: number;
  /** The pooled connections the request may hold at once (`DB_REQUEST_CONNECTIONS`). */
  readonly connections: ConnectionSlots;
  /**
   * The pooled connections the requests of its client may hold at once (`DB_CLIENT_CONNECTIONS`)
   * and how long a statement waits for one of them; absent for requests without a client
   * (`/healthz`, the token endpoint), which never wait behind a client's slots.
   */
  readonly client?: { slots: ConnectionSlots; wait: SlotWait };
  /**
   * Set when the request's handler has finished: a timer or promise chain that a request happened
   * to start (a background flush scheduled from inside it) inherits the scope but is not bounded by it.
   */
  ended: boolean;
}

const current = new AsyncLocalStorage<QueryScope>();

/** Runs a request's handler in `scope`; the scope ends when the handler settles. */
export async function runInQueryScope<T>(scope: QueryScope, work: () => T | Promise<T>): Promise<T> {
  try {
    return await current.run(scope, work);
  } finally {
    scope.ended = true;
  }
}

/**
 * Why a scope's work stops: the error its signal was aborted with (a request past its deadline),
 * else the request's client went away (499).
 */
export function abortErrorOf(scope: QueryScope): FhirError {
  const reason: unknown = scope.cancel.reason;
  return reason instanceof FhirError ? reason : clientClosedRequest('The client closed the connection; the request was cancelled');
}

/** The scope of the request a statement serves, if any and still running. */
export function currentQueryScope(): QueryScope | undefined {
  const scope = current.getStore();
  return scope && !scope.ended ? scope : undefined;
}

/**
 * Runs `work` outside any request scope, as background work (a sync round, a poll, a flush) must
 * even when a request's handler starts it: otherwise it would inherit that request's connection
 * slots and statement timeout, and be cancelled with it. Timers and promise chains begun inside
 * `work` stay outside too (https://nodejs.org/api/async_context.html#asynclocalstorageexitcallback-args).
 */
export function runOutsideQueryScope<T>(work: () => T): T {
  // Outside the request's trace too: background work is not part of the request that started it.
  return tracingOn ? current.exit(() => runOutsideSpans(work)) : current.exit(work);
}
