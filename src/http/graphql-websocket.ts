/**
 * The subscription WebSocket on the HTTP port: an `Upgrade: websocket` request for `/graphql` is
 * handed to a `ws` server (no port of its own) that speaks `graphql-transport-ws` through
 * graphql-ws's `ws` adapter, with the graph's {@link SubscriptionServer} options; any other path
 * is answered 404 and closed. Messages are capped at {@link MAX_MESSAGE_BYTES}; the server pings
 * every {@link KEEP_ALIVE_MS} and drops a peer that does not answer. When the app closes, every
 * socket is closed with 1001 and, after a short grace, cut.
 * https://github.com/enisdenjo/graphql-ws#ws  https://github.com/websockets/ws#external-https-server
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { SubscriptionServer } from '../graphql/subscriptions/subscription-server.ts';
import { WsCloseCode } from '../graphql/subscriptions/close-codes.ts';

/** The largest message a client may send (a `subscribe` carries a query, variables and criteria). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Ping period; a peer that misses a pong for as long is terminated. */
export const KEEP_ALIVE_MS = 12_000;
/** How long closing sockets get to finish their closing handshake when the server stops. */
const CLOSE_GRACE_MS = 1_000;

/** Serves `subscriptions` on `ws://…/graphql` of `app`'s HTTP server. */
export function serveGraphQLWebSocket(app: FastifyInstance, subscriptions: SubscriptionServer): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const server = useServer(subscriptions.options, wss, KEEP_ALIVE_MS);
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? '').split('?', 1)[0] !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('preClose', async () => {
    app.server.off('upgrade', onUpgrade);
    const open = [...wss.clients];
    const closed = Promise.all(open.map((ws) => new Promise((resolve) => ws.once('close', resolve))));
    for (const ws of open) ws.close(WsCloseCode.GoingAway, 'The server is shutting down');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
    for (const ws of wss.clients) ws.terminate();
    await server.dispose();
  });
}
