/**
 * Bounds the database work of every HTTP request (REST, GraphQL, auth): each route's handler runs
 * in a {@link QueryScope} whose statements get `STATEMENT_TIMEOUT`, which holds at most
 * `DB_REQUEST_CONNECTIONS` pooled connections at once, and whose signal aborts when
 * the client's connection closes before the answer was sent — so a client that gives up on a slow
 * search frees its PostgreSQL backend at once instead of leaving the statement running.
 */
import { setMaxListeners } from 'node:events';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { ConnectionSlots } from '../store/connection-slots.ts';
import { runInQueryScope, type QueryScope } from '../store/query-scope.ts';

/** What bounds a request's database work: `STATEMENT_TIMEOUT` and `DB_REQUEST_CONNECTIONS`. */
export interface RequestQueryLimits {
  statementTimeoutMs: number;
  connections: number;
}

/** A scope for one request: aborted when its response closes unfinished (the client went away). */
function scopeOf(reply: FastifyReply, limits: RequestQueryLimits): QueryScope {
  const controller = new AbortController();
  // Each running or waiting statement listens (a GraphQL operation may have dozens at once).
  setMaxListeners(0, controller.signal);
  const response = reply.raw;
  const onClose = () => {
    if (!response.writableFinished) controller.abort();
  };
  response.once('close', onClose);
  return { signal: controller.signal, statementTimeoutMs: limits.statementTimeoutMs, connections: new ConnectionSlots(limits.connections), ended: false };
}

/** Wraps every route registered on `app` from now on; call it before registering routes. */
export function scopeRequestQueries(app: FastifyInstance, limits: RequestQueryLimits): void {
  app.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function scopedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      return runInQueryScope(scopeOf(reply, limits), () => handler.call(this, request, reply));
    } as RouteHandlerMethod;
  });
}
