/**
 * The close codes the subscription WebSocket ends a connection with, beside graphql-ws's own
 * protocol codes (4400 bad message, 4406 wrong subprotocol, 4408 no `connection_init` within 3 s,
 * 4409 duplicate id, 4429 a second `connection_init`). A client reconnects with a fresh token and
 * resumes each subscription with `since` set to the last `cursor` it received.
 * https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md  https://www.rfc-editor.org/rfc/rfc6455#section-7.4
 */

/** Close codes of the subscription WebSocket (README "Subscriptions"). */
export const WsCloseCode = {
  /** The server is shutting down (RFC 6455 "Going Away"). */
  GoingAway: 1001,
  /**
   * The client read too slowly: a subscription held more than `WS_MAX_QUEUED_EVENTS` events for
   * it, or the socket more than `WS_MAX_BUFFER` unwritten bytes (RFC 6455 registry "Try Again
   * Later", which graphql-ws clients retry).
   */
  SlowConsumer: 1013,
  /**
   * No valid access token: missing, malformed, expired (also when it expires while the
   * connection is open), revoked, or its client disabled (graphql-ws `CloseCode.Unauthorized`).
   */
  Unauthorized: 4401,
  /** The client already holds `WS_MAX_CONNECTIONS_PER_CLIENT` connections on this server process. */
  TooManyConnections: 4429,
  /** The server could not check the token (a database outage): the client may reconnect later (graphql-ws `CloseCode.InternalServerError`). */
  InternalServerError: 4500,
} as const;
