/**
 * The graph over HTTP: the executable schema (built at start from the FHIR model, DECISIONS.md
 * §6), Apollo Server behind Fastify at `/graphql` and the FHIR GraphQL endpoints
 * `/fhir/$graphql` and `/fhir/{type}/{id}/$graphql` (whose root is that resource,
 * https://hl7.org/fhir/R4/graphql.html#invoking). The bearer token was verified by the app's
 * authentication hook; each document is capped and each operation costed and charged to the
 * client before it runs (`query-limits.ts`); operations wait at a gate fair across clients
 * (`operation-gate.ts`); each operation gets fresh loaders and reports the SQL statements it cost
 * in `extensions.statements`, its cost in `extensions.cost`. An operation that asks the schema
 * (introspection, `_service`) is answered by the schema worker off the main thread and sent as
 * the worker's bytes (`schema-answers.ts`).
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Kind, parse, print, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Config } from '../config.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest, invariant } from '../fhir/outcomes.ts';
import type { FhirService } from '../service/fhir-service.ts';
import { systemContext } from '../service/request-context.ts';
import { countStatements, currentStatements } from '../store/statement-counter.ts';
import { buildGraphSchema } from './build-graph-schema.ts';
import { SchemaAnswers, schemaAnswerPlugin, sendSchemaAnswer } from './schema-answers.ts';
import { SchemaWorker } from './schema-worker.ts';
import { formatGraphQLError } from './graphql-errors.ts';
import { OperationGate } from './operation-gate.ts';
import { documentLimitsRule } from './document-limits.ts';
import { warmUpGraphQL } from './warm-up.ts';
import { queryLimitsPlugin } from './query-limits.ts';
import { resultDirectivesPlugin } from './result-directives.ts';
import { RequestLoaders, type GraphQLContext, type RouteExchange } from './request-loaders.ts';

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
      async didResolveOperation({ operation, contextValue }) {
        contextValue.ctx.audit.begin(operation?.operation === 'query' ? 'R' : 'E', 'graphql');
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

/** The body of `/fhir/{type}/{id}/$graphql`, rewritten so its root is that resource. */
function rootedAt(type: string, id: string, body: Record<string, unknown>, maxTokens: number): Record<string, unknown> {
  if (typeof body.query !== 'string') throw badRequest('A GraphQL request needs a "query"');
  let document: DocumentNode;
  try {
    document = parse(body.query, { maxTokens });
  } catch (err) {
    throw badRequest(`The GraphQL query does not parse: ${(err as Error).message.slice(0, 200)}`);
  }
  const definitions = document.definitions.map((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'query') return definition;
    const wrapped: OperationDefinitionNode = {
      ...definition,
      selectionSet: {
        kind: Kind.SELECTION_SET,
        selections: [{
          kind: Kind.FIELD,
          alias: { kind: Kind.NAME, value: 'resource' },
          name: { kind: Kind.NAME, value: type },
          arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: '_id' }, value: { kind: Kind.STRING, value: id } }],
          selectionSet: definition.selectionSet,
        }],
      },
    };
    return wrapped;
  });
  return { ...body, query: print({ ...document, definitions }) };
}

/**
 * Parses a JSON GraphQL body that the app's raw parsers left as text, keeping each number's exact
 * digits (a variable's `72.50` reaches the `Decimal` scalar and the store as `72.50`, DECISIONS.md §3).
 */
function parseBody(request: FastifyRequest): void {
  if (typeof request.body !== 'string') return;
  try {
    request.body = parseFhirJson(request.body);
  } catch {
    throw badRequest('The GraphQL request body is not valid JSON');
  }
}

/** Starts Apollo and registers the GraphQL routes on the app. */
export async function registerGraphQL(app: FastifyInstance, service: FhirService, config: Config): Promise<ApolloServer<GraphQLContext>> {
  const started = performance.now();
  const schema = buildExecutableSchema(service);
  const schemaBuildMs = Math.round(performance.now() - started);
  const validationRules = [documentLimitsRule(config.graphql)];
  const worker = new SchemaWorker(config.graphql.schemaQueue);
  const answers = new SchemaAnswers(worker);
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
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
      queryLimitsPlugin({ ...config.graphql, defaultCount: config.defaultCount, maxCount: config.maxCount, maxIncluded: config.limits.search.maxIncluded }),
      resultDirectivesPlugin, statementsPlugin, schemaAnswerPlugin(answers), ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();
  const system = systemContext(`${config.publicUrl}/fhir`);
  const warmUpMs = Math.round(await warmUpGraphQL(apollo, schema, validationRules, { ctx: system, service, loaders: new RequestLoaders(service, system) }));
  app.log.info({ schemaBuildMs, warmUpMs, types: Object.keys(schema.getTypeMap()).length }, 'GraphQL schema ready');
  // What each request's route and Apollo's plugins pass each other.
  const exchanges = new WeakMap<FastifyRequest, RouteExchange>();
  const apolloHandler = fastifyApolloHandler(apollo, {
    context: async (request: FastifyRequest): Promise<GraphQLContext> => {
      invariant(request.fhirContext, 'the authentication hook runs before the GraphQL routes');
      const rootedAt = request.routeOptions.url === '/fhir/:type/:id/$graphql';
      return { ctx: request.fhirContext, service, loaders: new RequestLoaders(service, request.fhirContext), rootedAt, exchange: exchanges.get(request) };
    },
  });
  type HandlerArgs = Parameters<typeof apolloHandler>;
  const gate = new OperationGate(config.graphql.concurrency, config.graphql.clientConcurrency);
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    invariant(request.fhirContext, 'the authentication hook runs before the GraphQL routes');
    const kept = request.method === 'POST' ? answers.keptFor(request.body) : undefined;
    if (kept) {
      request.fhirContext.audit.begin('R', 'graphql');
      return sendSchemaAnswer(request, reply, kept);
    }
    return gate.run(request.fhirContext.auth.clientId, async (release) => {
      const exchange: RouteExchange = { releaseSlot: release };
      exchanges.set(request, exchange);
      const body = await countStatements({ count: 0 }, () => apolloHandler.call(app, request as unknown as HandlerArgs[0], reply as unknown as HandlerArgs[1]));
      return exchange.schemaAnswer ? sendSchemaAnswer(request, reply, exchange.schemaAnswer) : body;
    });
  };
  app.route({ method: ['GET', 'POST'], url: '/graphql', preValidation: async (request) => parseBody(request), handler: handle });
  app.route({ method: 'POST', url: '/fhir/$graphql', preValidation: async (request) => parseBody(request), handler: handle });
  app.route({
    method: 'POST',
    url: '/fhir/:type/:id/$graphql',
    preValidation: async (request) => {
      parseBody(request);
      const { type, id } = request.params as { type: string; id: string };
      service.assertResourceType(type);
      service.assertId(id);
      request.body = rootedAt(type, id, (request.body ?? {}) as Record<string, unknown>, config.graphql.maxTokens);
    },
    handler: handle,
  });
  app.addHook('onClose', async () => {
    await worker.close();
    await apollo.stop();
  });
  return apollo;
}
