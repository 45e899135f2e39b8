/**
 * The graph's subscriptions as a graphql-ws server (`graphql-transport-ws`), independent of the
 * transport: `options` are graphql-ws's `ServerOptions`, which the HTTP layer serves on
 * `ws://…/graphql` (`src/http/graphql-websocket.ts`, with graphql-ws's `ws` adapter).
 *
 * - `connection_init`: the payload's `{"authorization": "Bearer …"}` (or the upgrade request's
 *   `Authorization` header) is checked by the same code as an HTTP request's token
 *   (`Security.authenticateBearer`); refused → close 4401. At most `WS_MAX_CONNECTIONS_PER_CLIENT`
 *   connections per client on this process → else close 4429.
 * - `subscribe`: {@link SubscriptionStarter}; each event executed by {@link subscribeToChanges}.
 * - While open: the token expiring, a revocation or a disabled client close the socket with 4401
 *   (the auth state tells every process within about a second); a slow reader is closed with
 *   1013 (`WS_MAX_QUEUED_EVENTS`, `WS_MAX_BUFFER`). Errors sent to the client go through the graph's error normaliser.
 * https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
 */
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { WebSocket } from 'ws';
import { TokenRefused, refusalError } from '../../auth/access-tokens.ts';
import type { WebSocketConfig } from '../../config.ts';
import { formatGraphQLError } from '../graphql-errors.ts';
import { subscribeToChanges, type EventScopeOpener } from './change-event-execution.ts';
import { WsCloseCode } from './close-codes.ts';
import { SubscriberConnection } from './subscriber-connection.ts';
import { SubscriptionStarter, type SubscriptionStartDeps } from './subscription-start.ts';

/** What the subscription server needs. */
export interface SubscriptionServerDeps extends SubscriptionStartDeps {
  /** `WS_*`. */
  websocket: WebSocketConfig;
  /** Opens the query scope each event executes in (the HTTP layer's, see {@link EventScopeOpener}). */
  eventScope: EventScopeOpener;
  /** `PUBLIC_URL/fhir`. */
  fhirBaseUrl: string;
}

type InitPayload = Record<string, unknown> | undefined;

/** The `Authorization` value of a connection: the `connection_init` payload's, else the upgrade request's header. */
function authorizationOf(payload: InitPayload, extra: Extra): string | undefined {
  for (const [key, value] of Object.entries(payload ?? {})) {
    if (key.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  const header = extra.request.headers.authorization;
  return typeof header === 'string' ? header : undefined;
}

/** A result as the client receives it: every error through the graph's normaliser. */
function formatted(result: ExecutionResult): FormattedExecutionResult {
  const { errors, ...rest } = result;
  return errors ? { ...rest, errors: errors.map((e) => formatGraphQLError(e.toJSON(), e)) } : rest;
}

/** The subscription server of one HTTP app; see the module comment. */
export class SubscriptionServer {
  /** graphql-ws's server options, for its `ws` adapter. */
  readonly options: ServerOptions<InitPayload, Extra>;
  private readonly connections = new Map<WebSocket, SubscriberConnection>();
  private readonly perClient = new Map<string, number>();
  /** The connection and id of each started subscription, by its context (graphql-ws's `subscribe` sees only that). */
  private readonly started = new WeakMap<object, { connection: SubscriberConnection; id: string }>();
  private readonly starter: SubscriptionStarter;

  constructor(private readonly deps: SubscriptionServerDeps) {
    this.starter = new SubscriptionStarter(deps);
    deps.security.onAuthChange(() => {
      for (const connection of this.connections.values()) connection.recheck().catch((err: unknown) => this.report(err));
    });
    this.options = {
      schema: deps.schema,
      onConnect: (ctx) => this.connect(ctx.connectionParams, ctx.extra),
      onSubscribe: async (ctx, id, payload) => {
        const connection = this.connections.get(ctx.extra.socket);
        if (!connection) return [new GraphQLError('Not connected', { extensions: { code: 'UNAUTHENTICATED' } })];
        const started = await this.starter.start(connection, id, payload);
        if (!Array.isArray(started)) this.started.set((started as ExecutionArgs).contextValue as object, { connection, id });
        return started;
      },
      subscribe: (args) => {
        const entry = this.started.get(args.contextValue as object);
        if (!entry) return { errors: [new GraphQLError('The subscription was not started', { extensions: { code: 'BAD_REQUEST' } })] };
        return subscribeToChanges(args, deps.eventScope, entry.connection.closing.signal, (failure) => {
          const active = entry.connection.subscriptions.get(entry.id);
          if (active) active.failure = { status: failure.status, description: `${String(failure.error.extensions.code)}: ${failure.error.message}`.slice(0, 300) };
        });
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        this.connections.get(ctx.extra.socket)?.checkBuffer();
        return formatted(result);
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatGraphQLError(e.toJSON(), e)),
      onComplete: (ctx, id) => {
        this.connections.get(ctx.extra.socket)?.finish(id);
      },
      onClose: (ctx, code) => this.disconnect(ctx.extra.socket, code),
    };
  }

  /** Open connections, for tests and the bench. */
  get size(): number {
    return this.connections.size;
  }

  /** `connection_init`: authenticates, counts the client's connections; false after closing the socket itself. */
  private async connect(payload: InitPayload, extra: Extra): Promise<boolean> {
    const { socket, request } = extra;
    const authorization = authorizationOf(payload, extra);
    let connection: SubscriberConnection;
    try {
      const ctx = await this.deps.security.authenticateBearer(authorization, request.socket.remoteAddress, this.deps.fhirBaseUrl);
      connection = new SubscriberConnection(socket, ctx, authorization!, this.deps.security, this.deps.websocket);
    } catch (err) {
      if (err instanceof TokenRefused) socket.close(WsCloseCode.Unauthorized, `Unauthorized: ${refusalError(err).message}`);
      else {
        // The auth state could not be asked (a database outage): the client may try again.
        this.report(err);
        socket.close(WsCloseCode.InternalServerError, 'Internal server error');
      }
      return false;
    }
    const open = this.perClient.get(connection.clientId) ?? 0;
    if (open >= this.deps.websocket.maxConnectionsPerClient) {
      this.deps.security.countRateLimitRejection('graphql-ws connection');
      connection.dispose();
      socket.close(WsCloseCode.TooManyConnections, `Too many connections: this client holds ${open} (WS_MAX_CONNECTIONS_PER_CLIENT)`);
      return false;
    }
    if (socket.readyState !== socket.OPEN) {
      connection.dispose();
      return false;
    }
    this.perClient.set(connection.clientId, open + 1);
    this.connections.set(socket, connection);
    return true;
  }

  /** The socket closed: ends what is still open on it. */
  private disconnect(socket: WebSocket, code: number | undefined): void {
    const connection = this.connections.get(socket);
    if (!connection) return;
    this.connections.delete(socket);
    for (const id of [...connection.subscriptions.keys()]) connection.finish(id, code);
    connection.dispose();
    const left = (this.perClient.get(connection.clientId) ?? 1) - 1;
    if (left > 0) this.perClient.set(connection.clientId, left);
    else this.perClient.delete(connection.clientId);
  }

  private report(err: unknown): void {
    this.deps.log?.(`subscription server: ${(err as Error)?.message ?? String(err)}`);
  }
}
