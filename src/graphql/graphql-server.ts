/**
 * The graph over HTTP: the executable schema (built at start from the FHIR model, DECISIONS.md
 * §6), Apollo Server behind Fastify at `/graphql` and the FHIR GraphQL endpoints
 * `/fhir/$graphql` and `/fhir/{type}/{id}/$graphql` (whose root is that resource,
 * https://hl7.org/fhir/R4/graphql.html#invoking), each by GET (queries only) or POST (a JSON body,
 * or the query as an `application/graphql` body: `graphql-http-request.ts`); a subscription is
 * refused over HTTP (`subscription-over-http.ts`) and served over WebSocket by the subscription
 * server made here (`subscriptions/`, mounted on `ws://…/graphql` by the HTTP layer). The bearer token was verified by the app's
 * authentication hook; each document is capped and each operation costed and charged to the
 * client before it runs (`query-limits.ts`); operations wait at a gate fair across clients
 * (`operation-gate.ts`); repeated queries run compiled (`compiled-executor.ts`); each operation
 * gets fresh loaders and reports the SQL statements it cost
 * in `extensions.statements`, its cost in `extensions.cost`. An operation that asks the schema
 * (introspection, `_service`) is answered by the schema worker off the main thread and sent as
 * the worker's bytes (`schema-answers.ts`).
 */
import { Readable } from 'node:stream';
import { ApolloServer, type ApolloServerPlugin, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Security } from '../access/security.ts';
import type { Config } from '../config.ts';
import { invariant } from '../fhir/outcomes.ts';
import type { ChangeStreams } from '../service/change-streams/change-streams.ts';
import type { FhirService } from '../service/fhir-service.ts';
import { systemContext } from '../service/request-context.ts';
import { countStatements, currentStatements } from '../store/statement-counter.ts';
import { buildGraphSchema } from './build-graph-schema.ts';
import { compiledExecutionGateway } from './compiled-executor.ts';
import { SchemaAnswers, schemaAnswerPlugin, sendSchemaAnswer } from './schema-answers.ts';
import { SchemaWorker } from './schema-worker.ts';
import { formatGraphQLError } from './graphql-errors.ts';
import { graphqlRequestOf, type GraphQLRoot } from './graphql-http-request.ts';
import { OperationGate } from './operation-gate.ts';
import { documentLimitsRule } from './document-limits.ts';
import { warmUpGraphQL } from './warm-up.ts';
import { queryLimitsPlugin } from './query-limits.ts';
import { resultDirectivesPlugin } from './result-directives.ts';
import { subscriptionOverHttpPlugin } from './subscription-over-http.ts';
import { RequestLoaders, type GraphQLContext, type RouteExchange } from './request-loaders.ts';
import type { EventScopeOpener } from './subscriptions/change-event-execution.ts';
import { SubscriptionServer } from './subscriptions/subscription-server.ts';
import { graphqlMetricsPlugin, type GraphQLMetrics } from '../telemetry/metrics/index.ts';

const schemas = new WeakMap<object, GraphQLSchema>();

/**
 * The executable schema of the FHIR model (SDL generated in memory, resolvers attached), built
 * once per process: resolvers take the service from the request context, so every server of the
 * process shares it.
 */
export function buildExecutableSchema(service: FhirService): GraphQLSchema {
  let built = schemas.get(service.model);
  if (!built) {
    built = buildGraphSchema(service.model);
    schemas.set(service.model, built);
  }
  return built;
}

/** Reports the statement count of the operation in the response's `extensions`. */
const statementsPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue, source }) {
        // A read audits as one BALP "query" event: the patients touched and the document.
        if (operation?.operation === 'query') contextValue.ctx.audit.beginQuery('graphql', source);
        else contextValue.ctx.audit.begin('E', 'graphql');
      },
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        const error = result.errors?.[0];
        if (error) {
          const status = typeof error.extensions?.status === 'number' ? error.extensions.status : 400;
          contextValue.ctx.audit.failure = { status, description: `GraphQL ${String(error.extensions?.code ?? 'error')}: ${error.message}`.slice(0, 300) };
        }
        // An instance-level query answers with the resource's fields at the root.
        if (contextValue.rootedAt && result.data && 'resource' in result.data) result.data = result.data.resource as Record<string, unknown>;
        const statements = currentStatements();
        if (statements !== undefined) response.body.singleResult.extensions = { ...response.body.singleResult.extensions, statements };
      },
    };
  },
};

/**
 * The graph's HTTP handlers, which the app registers in its route table (`http/graphql-routes.ts`):
 * the authentication hook has verified the bearer token and built the request's context.
 */
export interface GraphQLEndpoints {
  /** `/graphql` and `/fhir/$graphql`, GET and POST. */
  system(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** `/fhir/{type}/{id}/$graphql`, GET and POST: the query's root is that resource. */
  instance(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** The subscriptions (graphql-ws), which the HTTP layer serves on `ws://…/graphql`; absent without a change feed. */
  subscriptions?: SubscriptionServer;
}

/** What subscriptions need beyond the graph: the change streams, the token checks of HTTP requests, and their query scopes. */
export interface SubscriptionDeps {
  streams: ChangeStreams;
  security: Security;
  /** Opens the query scope an event executes in, sharing its client's connection slots with its HTTP requests. */
  eventScope: EventScopeOpener;
}

/** Sends Apollo's answer to a GraphQL-over-HTTP request (what `@as-integrations/fastify` does, for a request we prepared). */
async function executeOnApollo(
  apollo: ApolloServer<GraphQLContext>, httpGraphQLRequest: HTTPGraphQLRequest, context: () => Promise<GraphQLContext>, reply: FastifyReply,
): Promise<unknown> {
  const { headers, body, status } = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context });
  for (const [name, value] of headers) reply.header(name, value);
  reply.code(status ?? 200);
  return body.kind === 'complete' ? body.string : reply.send(Readable.from(body.asyncIterator));
}

/**
 * Starts Apollo (schema built, caches warm) and returns the handlers of the GraphQL endpoints,
 * with the subscription server when `subscriptionDeps` are given; operations are recorded into `metrics` when given.
 */
export async function startGraphQL(
  app: FastifyInstance, service: FhirService, config: Config, subscriptionDeps?: SubscriptionDeps, metrics?: GraphQLMetrics,
): Promise<GraphQLEndpoints> {
  const started = performance.now();
  const schema = buildExecutableSchema(service);
  const schemaBuildMs = Math.round(performance.now() - started);
  const validationRules = [documentLimitsRule(config.graphql)];
  const queryLimits = { ...config.graphql, defaultCount: config.defaultCount, maxCount: config.maxCount, maxIncluded: config.limits.search.maxIncluded };
  const worker = new SchemaWorker(config.graphql.schemaQueue);
  const answers = new SchemaAnswers(worker);
  const apollo = new ApolloServer<GraphQLContext>({
    // The served schema, with queries executed by their compiled function (`compiled-executor.ts`).
    gateway: compiledExecutionGateway(schema),
    introspection: config.graphql.introspection,
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: false,
    // The server's own SIGINT/SIGTERM handler stops everything in order (Apollo last, via onClose).
    stopOnTerminationSignals: false,
    // The parser stops at GRAPHQL_MAX_TOKENS; the other caps are checked as validation starts,
    // the cost once the operation and its variables are known (the plugin).
    parseOptions: { maxTokens: config.graphql.maxTokens },
    validationRules,
    // A federated schema would switch on inline tracing for every request; we do not report traces.
    // Cache-control hints are not used (answers are per token), and the plugin would wrap every
    // field's resolver: ~10% of a nested query's time.
    plugins: [
      subscriptionOverHttpPlugin(config.publicUrl),
      queryLimitsPlugin(queryLimits),
      resultDirectivesPlugin, statementsPlugin, schemaAnswerPlugin(answers), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(),
      ...(metrics ? [graphqlMetricsPlugin(metrics)] : []), // after the cost and statements plugins: it reads their extensions
    ],
  });
  await apollo.start();
  const system = systemContext(`${config.publicUrl}/fhir`);
  const warmUpMs = Math.round(await warmUpGraphQL(apollo, schema, validationRules, { ctx: system, service, loaders: new RequestLoaders(service, system) }));
  app.log.info({ schemaBuildMs, warmUpMs, types: Object.keys(schema.getTypeMap()).length }, 'GraphQL schema ready');
  const gate = new OperationGate(config.graphql.concurrency, config.graphql.clientConcurrency);
  const handle = async (request: FastifyRequest, reply: FastifyReply, root?: GraphQLRoot) => {
    const ctx = request.fhirContext;
    invariant(ctx, 'the authentication hook runs before the GraphQL routes');
    const httpGraphQLRequest = graphqlRequestOf(request, root, config.graphql.maxTokens);
    const kept = httpGraphQLRequest.method === 'POST' ? answers.keptFor(httpGraphQLRequest.body) : undefined;
    if (kept) {
      ctx.audit.begin('R', 'graphql');
      return sendSchemaAnswer(request, reply, kept);
    }
    return gate.run(ctx.auth.clientId, async (release) => {
      // What the route and Apollo's plugins pass each other, by reference.
      const exchange: RouteExchange = { releaseSlot: release };
      const context = async (): Promise<GraphQLContext> => ({ ctx, service, loaders: new RequestLoaders(service, ctx), rootedAt: root !== undefined, exchange });
      const body = await countStatements({ count: 0 }, () => executeOnApollo(apollo, httpGraphQLRequest, context, reply));
      return exchange.schemaAnswer ? sendSchemaAnswer(request, reply, exchange.schemaAnswer) : body;
    });
  };
  app.addHook('onClose', async () => {
    await worker.close();
    await apollo.stop();
  });
  const subscriptions = subscriptionDeps && new SubscriptionServer({
    ...subscriptionDeps, schema, service, limits: queryLimits, maxSubscriptions: config.websocket.maxSubscriptions, maxQueuedEvents: config.websocket.maxQueuedEvents, websocket: config.websocket,
    fhirBaseUrl: `${config.publicUrl}/fhir`, log: (message) => app.log.warn(message), metrics,
  });
  return {
    subscriptions,
    system: (request, reply) => handle(request, reply),
    instance: async (request, reply) => {
      const { type, id } = request.params as { type: string; id: string };
      service.assertResourceType(type);
      service.assertId(id);
      return handle(request, reply, { type, id });
    },
  };
}
