/**
 * The graph as an Apollo Federation v2 subgraph (https://www.apollographql.com/docs/federation/subgraph-spec/):
 * `_service { sdl }` with `@key(fields: "id")` on every resource type, `_entities` resolving
 * representations through the request's loader and its authorisation, and a gateway that composes
 * it with a second small subgraph and answers a query crossing both, all on loopback.
 *
 * Until `buildExecutableSchema` applies `withFederation`, the subgraph is served by a test-only
 * Apollo Server over the federated schema with the real server's context shape (token verified by
 * the real `Security`); once it does, the test uses the real `/graphql`.
 */
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer, type ApolloServerOptions, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEntityTypes } from '../../src/codegen/build-fhir-sdl.ts';
import { withFederation } from '../../src/graphql/federation.ts';
import { formatGraphQLError } from '../../src/graphql/graphql-errors.ts';
import { buildExecutableSchema } from '../../src/graphql/graphql-server.ts';
import { RequestLoaders, type GraphQLContext } from '../../src/graphql/request-loaders.ts';
import { RequestAudit } from '../../src/service/audit/request-audit.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let smithId: string;
/** The fhirgraph subgraph's GraphQL URL. */
let subgraphUrl: string;
const stops: (() => Promise<unknown>)[] = [];
/** Apollo Server 5's gateway interface, which @apollo/gateway 2.14 does not name (it types against Apollo 4's). */
type ServerGateway = Extract<ApolloServerOptions<BaseContext>, { gateway: unknown }>['gateway'];

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, token?: string | null) {
  return fhirFetch(url, { method: 'POST', body: JSON.stringify({ query, variables }), headers: { 'content-type': 'application/json' }, token });
}

/** The fhirgraph subgraph: the real `/graphql` when it is federated, else the same schema and context over a test-only server. */
async function startFhirSubgraph(): Promise<string> {
  const { service, security } = t.server;
  const served = buildExecutableSchema(service);
  if (served.getQueryType()?.getFields()._service) return `${t.url}/graphql`;
  const apollo = new ApolloServer<GraphQLContext>({ schema: withFederation(served, service.model), formatError: formatGraphQLError, includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const auth = await security.tokens.authenticate(req.headers.authorization).catch(() => {
        throw new GraphQLError('A valid bearer token is required', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
      });
      const ctx = { fhirBaseUrl: t.fhirBase, auth, audit: new RequestAudit(), ip: req.socket.remoteAddress };
      return { ctx, service, loaders: new RequestLoaders(service, ctx) };
    },
  });
  stops.push(() => apollo.stop());
  return `${url}graphql`;
}

/** A second subgraph that knows only a risk score per Patient, keyed like fhirgraph's Patient. */
async function startRiskSubgraph(): Promise<string> {
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Patient @key(fields: "id") { id: ID! riskScore: Int }
    type Query { topRisk: Patient }
  `);
  const resolvers = {
    Query: { topRisk: () => ({ id: smithId, riskScore: 87 }) },
    Patient: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, riskScore: ref.id === smithId ? 87 : 0 }) },
  };
  const apollo = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }), plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(apollo, { listen: { port: 0, host: '127.0.0.1' } });
  stops.push(() => apollo.stop());
  return url;
}

/** Passes the client's bearer token on to every subgraph fetch of an operation. */
class AuthorizationPassingDataSource extends RemoteGraphQLDataSource<{ authorization?: string }> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<{ authorization?: string }>): void {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

/** The gateway: composes both subgraphs from their `_service { sdl }` and serves the supergraph. */
async function startGateway(riskUrl: string): Promise<string> {
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [{ name: 'fhirgraph', url: subgraphUrl }, { name: 'risk', url: riskUrl }],
      // Composition reads `_service`, which (like all of /graphql) needs a token.
      introspectionHeaders: { authorization: `Bearer ${t.adminToken}` },
    }),
    buildService: ({ url }) => new AuthorizationPassingDataSource({ url }),
  });
  // @apollo/gateway 2.14 types against the Apollo Server 4 gateway interface (DECISIONS.md §1).
  const apollo = new ApolloServer({ gateway: gateway as unknown as ServerGateway });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  stops.push(() => apollo.stop());
  return url;
}

beforeAll(async () => {
  t = await startTestServer();
  const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Ann'] }] } });
  expect(created.status).toBe(201);
  smithId = created.body.id;
  subgraphUrl = await startFhirSubgraph();
}, 60_000);
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await t?.close();
});

describe('the subgraph', () => {
  it('serves its SDL with the Federation v2 link and @key(fields: "id") on every resource type', async () => {
    const res = await gql(subgraphUrl, '{ _service { sdl } }');
    expect(res.body.errors).toBeUndefined();
    const sdl: string = res.body.data._service.sdl;
    expect(sdl).toMatch(/^extend schema @link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \["@key"\]\)/);
    expect(sdl).toContain('type Patient implements Resource @key(fields: "id") {');
    expect(sdl.split('@key(fields: "id")').length - 1).toBe(listEntityTypes(t.server.service.model).length);
    expect(sdl).not.toMatch(/\b_entities\b|\b_Service\b/);
    // Subscriptions are served over this server's own WebSocket, never routed through a gateway.
    expect(sdl).not.toMatch(/subscription:|Change_Subscription|_ChangeEvent\b/);
  });

  it('resolves entity representations of a Patient created through REST, null for an unknown id', async () => {
    const res = await gql(subgraphUrl, 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Patient { id name { family given } } } }', {
      r: [{ __typename: 'Patient', id: smithId }, { __typename: 'Patient', id: 'no-such-patient' }],
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data._entities).toEqual([{ __typename: 'Patient', id: smithId, name: [{ family: 'Smith', given: ['Ann'] }] }, null]);
  });

  it('returns null and FORBIDDEN for an entity type the token may not read, never the data', async () => {
    const token = await t.tokenWithScope('system/Observation.rs');
    const res = await gql(subgraphUrl, 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { name { family } } } }', {
      r: [{ __typename: 'Patient', id: smithId }],
    }, token);
    expect(res.body.data._entities).toEqual([null]);
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(res.body.errors[0].path).toEqual(['_entities', 0]);
    expect(JSON.stringify(res.body)).not.toContain('Smith');
  });

  it('refuses a representation of a type that is not an entity', async () => {
    const res = await gql(subgraphUrl, 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [{ __typename: 'HumanName', id: 'x' }] });
    expect(res.body.data._entities).toEqual([null]);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('a gateway over fhirgraph and a second subgraph', () => {
  it('composes both and resolves a query that crosses them, passing the bearer token on', async () => {
    const gatewayUrl = await startGateway(await startRiskSubgraph());
    const res = await gql(gatewayUrl, '{ topRisk { riskScore name { family } } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ topRisk: { riskScore: 87, name: [{ family: 'Smith' }] } });
    // Without a token, fhirgraph refuses its part and the gateway reports it.
    const anonymous = await gql(gatewayUrl, '{ topRisk { riskScore name { family } } }', {}, null);
    expect(anonymous.body.data?.topRisk?.name ?? null).toBeNull();
    expect(anonymous.body.errors?.length).toBeGreaterThan(0);
  }, 120_000);
});
