/**
 * A subscription's source stream mapped over the ordinary `execute`, as graphql-js's `subscribe`
 * does (https://spec.graphql.org/October2021/#MapSourceToResponseEvent()), with what a query gets
 * per HTTP request given per event instead: fresh loaders (so a reference shows the current data
 * when the event is delivered, read once per level and event), a query scope bounding its
 * statements as a request's are (`STATEMENT_TIMEOUT`, `DB_REQUEST_CONNECTIONS`, the client's
 * `DB_CLIENT_CONNECTIONS` shared with its requests, `REQUEST_TIMEOUT`) and cancelling them when
 * the socket closes, and the FHIR result directives applied to the data.
 *
 * The iterator is written out rather than an async generator: graphql-ws calls `return()` when the
 * client completes a subscription or the socket closes, and a generator would only take it after
 * the next event arrived; here it closes the change stream at once, which ends the pending `next()`.
 */
import {
  createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult,
} from 'graphql';
import { FhirError } from '../../fhir/outcomes.ts';
import type { ChangeDelivery, ChangeStream } from '../../service/change-streams/change-stream.ts';
import { runInQueryScope, type QueryScope } from '../../store/query-scope.ts';
import { toGraphQLError } from '../graphql-errors.ts';
import { RequestLoaders, type GraphQLContext } from '../request-loaders.ts';
import { applyResultDirectives } from '../result-directives.ts';

/**
 * Opens the query scope of one event's execution for a client (the HTTP layer's: the statement
 * timeout, connections and `REQUEST_TIMEOUT` of a request, and the client's `DB_CLIENT_CONNECTIONS`
 * slots shared with its requests); `signal` aborts it when the socket closes. `leave()` at the end.
 */
export type EventScopeOpener = (clientId: string, signal: AbortSignal) => { scope: QueryScope; leave(): void };

/** How a failure ends a subscription: the error sent to the client and the status audited. */
export interface EventFailure {
  error: GraphQLError;
  status: number;
}

/** A failure of the stream or an event's execution as a client-safe GraphQL error. */
export function toEventFailure(err: unknown): EventFailure {
  if (err instanceof FhirError) return { error: toGraphQLError(err), status: err.status };
  if (err instanceof GraphQLError && typeof err.extensions.code === 'string') {
    return { error: err, status: typeof err.extensions.status === 'number' ? err.extensions.status : 400 };
  }
  return { error: new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } }), status: 500 };
}

/**
 * graphql-ws's `subscribe`: the `TChanged` field's source stream (the change stream its start
 * opened), each event executed with the delivery as root value. `signal` aborts with the
 * socket; `onFailure` hears why a stream ended in error before the client does.
 */
export async function subscribeToChanges(
  args: ExecutionArgs, openScope: EventScopeOpener, signal: AbortSignal, onFailure: (failure: EventFailure) => void,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const base = args.contextValue as GraphQLContext;
  const stream = base.changes as ChangeStream;
  const run = async (delivery: ChangeDelivery): Promise<ExecutionResult> => {
    const contextValue: GraphQLContext = { ...base, loaders: new RequestLoaders(base.service, base.ctx) };
    const { scope, leave } = openScope(base.ctx.auth.clientId, signal);
    let result: ExecutionResult;
    try {
      result = await runInQueryScope(scope, () => execute({ ...args, rootValue: delivery, contextValue }));
    } finally {
      leave();
    }
    if (!result.data) return result;
    try {
      return { ...result, data: applyResultDirectives(args.document, args.operationName ?? undefined, result.data, args.variableValues ?? {}) };
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      const { http: _http, ...extensions } = err.extensions;
      return { data: null, errors: [...(result.errors ?? []), new GraphQLError(err.message, { nodes: err.nodes, extensions })] };
    }
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      try {
        const item = await stream.next();
        if (item.done) return { value: undefined, done: true };
        return { value: await run(item.value), done: false };
      } catch (err) {
        stream.close();
        const failure = toEventFailure(err);
        onFailure(failure);
        throw failure.error;
      }
    },
    async return() {
      stream.close();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      stream.close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
