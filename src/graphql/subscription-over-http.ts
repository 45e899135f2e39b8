/**
 * A `subscription` operation sent over HTTP is answered 400 with `extensions.code = "BAD_REQUEST"`
 * and a message naming where subscriptions run: a WebSocket at `/graphql` speaking
 * `graphql-transport-ws` (CONTRACT.md "HTTP endpoints", https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
 * Without this, graphql-js failed it during execution and the client saw a masked
 * `INTERNAL_SERVER_ERROR` with HTTP 200 (issue 15). A GET is refused earlier by Apollo (405: a
 * GET runs queries only).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { outcome } from '../fhir/outcomes.ts';
import type { GraphQLContext } from './request-loaders.ts';

/** The WebSocket URL of the graph for a server whose public URL is `publicUrl`. */
export function subscriptionUrl(publicUrl: string): string {
  return `${publicUrl.replace(/^http/, 'ws')}/graphql`;
}

/** The plugin refusing subscriptions over HTTP, before anything runs. */
export function subscriptionOverHttpPlugin(publicUrl: string): ApolloServerPlugin<GraphQLContext> {
  const message = `A subscription does not run over HTTP: open a WebSocket to ${subscriptionUrl(publicUrl)} with the graphql-transport-ws protocol (graphql-ws) and subscribe there`;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(message, {
            extensions: { code: 'BAD_REQUEST', status: 400, outcome: outcome('error', 'not-supported', message), http: { status: 400 } },
          });
        },
      };
    },
  };
}
