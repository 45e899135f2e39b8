/**
 * Wires the HTTP server: Fastify with gzip, CORS, the FHIR JSON body parsers, `/healthz`, the REST
 * facade's route table (plus 405 answers for methods a path does not serve), the one error
 * handler, and the subscription WebSocket on `/graphql` (`graphql-websocket.ts`). Returns the app unstarted, so tests and `main.ts` both listen on it.
 */
import { createRequire } from 'node:module';
import Fastify, { errorCodes, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import compress from '@fastify/compress';
import { BUNDLE_TIMEOUT_FACTOR, requestTimeoutOf, type Config } from '../config.ts';
import { invariant, methodNotAllowed, notFound, unsupportedMediaType } from '../fhir/outcomes.ts';
import { findLongArray } from '../fhir/find-long-array.ts';
import { tooManyRepetitions } from '../fhir/assert-resource-bounds.ts';
import type { FhirService } from '../service/fhir-service.ts';
import { auditRecordOf, type RequestContext } from '../service/request-context.ts';
import { adminRoutes } from '../rest/routes/admin-routes.ts';
import { registerAuthRoutes } from '../rest/routes/auth-routes.ts';
import type { Security } from '../access/security.ts';
import type { ChangeStreams } from '../service/change-streams/change-streams.ts';
import { serveGraphQLWebSocket } from './graphql-websocket.ts';
import { registerExtraRoutes, type ExtraRoutes } from './extra-routes.ts';
import { binaryRouteOptions, bodyOptions, resourceBodyLimit, takesBundle } from './body-limits.ts';
import { scopeRequestQueries } from './request-scope.ts';
import { registerCors } from './cors.ts';
import { isConsolePath, registerConsole } from './console/serve-console.ts';
import { graphqlRoutes } from './graphql-routes.ts';
import { readTextBody } from './read-text-body.ts';
import { operationRoutes } from '../operations/operation-routes.ts';
import { operationRegistry } from '../operations/registry.ts';
import type { WebhookServices } from '../webhooks/index.ts';
import type { ExportServices } from '../operations/export/index.ts';
import { startGraphQL } from '../graphql/graphql-server.ts';
import { GRAPHQL_MEDIA_TYPE, isGraphQLPath } from '../graphql/graphql-http-request.ts';
import { buildCapabilityStatement } from '../rest/capability-statement.ts';
import { handleError } from '../rest/error-handler.ts';
import { answerClientError, answerFrameworkError } from '../rest/client-errors.ts';
import type { FhirRoute, HttpMethod, RouteDeps } from '../rest/fhir-route.ts';
import { assertAcceptsJson, FHIR_JSON } from '../rest/negotiate.ts';
import { JSON_MEDIA_TYPES, servesBinary, takesRawBinary } from '../rest/request-body.ts';
import { sendValue } from '../rest/reply.ts';
import { assertWellEncodedQuery, normaliseRequestUrl } from '../rest/request-url.ts';
import { assertOperationServed } from '../rest/unserved-operation.ts';
import { historyRoutes } from '../rest/routes/history-routes.ts';
import { conditionalRoutes, instanceRoutes } from '../rest/routes/instance-routes.ts';
import { systemRoutes } from '../rest/routes/system-routes.ts';
import { typeRoutes } from '../rest/routes/type-routes.ts';
import { searchRoutes } from '../rest/routes/search-routes.ts';
import { binaryRoutes } from '../rest/routes/binary-routes.ts';
import { readinessProbes } from '../store/readiness-repository.ts';
import { SharedReadiness, assessReadiness } from '../telemetry/readiness.ts';
import type { Metrics } from '../telemetry/metrics/index.ts';
import { createLogger, requestIdOf, REQUEST_ID_HEADER, type LogDestination } from '../telemetry/logging/index.ts';
import { traceHttpRequests } from '../telemetry/tracing/index.ts';
import type { Logger } from 'pino';

/** A body from this many characters on is handled a turn of the event loop after it is read. */
const LARGE_BODY = 256 * 1024;

const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Every REST route, in registration order. */
export const fhirRoutes: FhirRoute[] = [...systemRoutes, ...historyRoutes, ...searchRoutes, ...typeRoutes, ...instanceRoutes, ...conditionalRoutes, ...binaryRoutes];

/** Paths served without an access token (CONTRACT.md "Authentication"). */
/** How long each check of `/readyz` may take before it counts as failed. */
const READINESS_PROBE_TIMEOUT_MS = 2_000;
/** How long one `/readyz` answer is reused (a probe flood costs one assessment per this long). */
const READINESS_FRESH_MS = 250;

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/fhir/metadata', '/fhir/.well-known/smart-configuration', '/auth/token', '/auth/revoke', '/auth/jwks']);

declare module 'fastify' {
  interface FastifyRequest {
    fhirContext: RequestContext | null;
    /** The diagnostics of the error a request ended with, for its AuditEvent. */
    errorSummary: string | null;
  }
}

export type { LogStream } from '../telemetry/logging/index.ts';

export interface AppOptions {
  config: Config;
  service: FhirService;
  security: Security;
  /** Webhook delivery (`$replay`); absent, the route is not served. */
  webhooks?: WebhookServices;
  /** Bulk Data export (`$export` and its status and file routes); absent, not served. */
  exports?: ExportServices;
  /** The server's logger, or where a new one writes: `false` silences logs (tests), a stream receives them as JSON lines. */
  logger?: LogDestination | Logger;
  /** Routes that bench or test code mounts beside the API ({@link ExtraRoutes}); none in production. */
  extraRoutes?: readonly ExtraRoutes[];
  /** The change streams of GraphQL subscriptions (`ws://…/graphql`); without them no WebSocket is served. */
  changeStreams?: ChangeStreams;
  /** Where requests and GraphQL operations are recorded (README "Metrics"); absent when metrics are off. */
  metrics?: Metrics;
}

/** Builds the Fastify app (not yet listening). */
export async function buildApp({ config, service, security, webhooks, exports, logger = true, extraRoutes = [], changeStreams, metrics }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: (typeof logger === 'object' && 'child' in logger ? logger : createLogger(config.logLevel, logger)) as FastifyBaseLogger,
    // Every log line of a request carries its id (README "Traces and logs"), the client's when safe.
    requestIdHeader: false,
    genReqId: (request) => requestIdOf(request.headers[REQUEST_ID_HEADER]),
    // Request lines are logged by our onResponse hook: route pattern, status and time only,
    // never query strings, bodies or tokens (DECISIONS.md §8).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    // Every body but a Bundle's: routes that take a Bundle raise it to MAX_BODY (body-limits.ts).
    bodyLimit: resourceBodyLimit(config),
    trustProxy: false,
    return503OnClosing: true,
    // Refusals before routing (414, 431, a broken URL) as OperationOutcomes that do not echo the URL.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // `POST /fhir/` (fhir-kit-client, fhirclient) and `/fhir/Patient/` route as without the slash.
    rewriteUrl: (request) => normaliseRequestUrl(request.url ?? '/'),
  });
  // Every answer says which request it is (errors and 404s too), and, traced, is the span of its route.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  traceHttpRequests(app);
  // Before any route: every handler's statements get STATEMENT_TIMEOUT, hold at most their
  // request's and their client's share of the pool, and die with their client or their deadline.
  const clientWorkScope = scopeRequestQueries(app, {
    statementTimeoutMs: config.limits.statementTimeoutMs,
    connections: config.dbRequestConnections,
    clientConnections: Math.min(config.dbClientConnections, config.poolSize),
    clientWaitMs: config.dbAcquireTimeoutMs,
    requestTimeoutMs: requestTimeoutOf(config.limits),
    bundleTimeoutMs: requestTimeoutOf(config.limits) * BUNDLE_TIMEOUT_FACTOR,
  });
  await app.register(compress, { global: true, threshold: 1024, encodings: ['gzip', 'deflate'] });
  // Before the authentication hook: a browser's preflight carries no token.
  await registerCors(app, config.corsOrigins);

  app.removeAllContentTypeParsers();
  const { maxRepeats } = config.limits.resource;
  // JSON bodies are decoded chunk by chunk as they arrive (read-text-body.ts), within the route's body limit.
  app.addContentTypeParser(JSON_MEDIA_TYPES, (request, payload, done) => readTextBody(request, payload, request.routeOptions.bodyLimit ?? resourceBodyLimit(config), (err, body) => {
    if (err || body === undefined) return done(err, undefined);
    // A FHIR body (resource, Bundle, JSON Patch) with an over-long array is refused before it is
    // parsed: 1,000,000 items cost JSON.parse alone 50 ms of event loop. GraphQL bounds its own input.
    // A Bundle is checked entry by entry as it is parsed, in time slices (readBundleBody).
    const checked = request.url.startsWith('/fhir') && !request.url.includes('$graphql') && !takesBundle(request);
    const long = checked ? findLongArray(body, maxRepeats) : undefined;
    if (long) return done(tooManyRepetitions(long, maxRepeats), undefined);
    // Reading, scanning, parsing and validating a large body would otherwise share one turn of
    // the event loop: the handler starts on the next one, after other clients' pending I/O.
    if (body.length >= LARGE_BODY) setImmediate(() => done(null, body));
    else done(null, body);
  }));
  // Form bodies (a search, a token request) are small: a 32 MiB one used to be decoded in full.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: config.maxFormBodyBytes }, (_request, body, done) => done(null, body));
  // A POST whose body is the GraphQL query itself (https://hl7.org/fhir/R4/graphql.html#invoking): GraphQL endpoints only.
  app.addContentTypeParser(GRAPHQL_MEDIA_TYPE, { parseAs: 'string' }, (request, body, done) => {
    if (isGraphQLPath(request.url.split('?', 1)[0])) done(null, body);
    else done(unsupportedMediaType(`Unsupported Content-Type ${GRAPHQL_MEDIA_TYPE}: send application/fhir+json`), undefined);
  });
  // Any other media type is a Binary's raw content, on the Binary routes only, passed on as the
  // stream it arrives as (binary-routes.ts); elsewhere it is refused as before (415).
  app.addContentTypeParser('*', (request, payload, done) => {
    if (takesRawBinary(request)) done(null, payload);
    else done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
  app.setErrorHandler(handleError);

  const fhirBaseUrl = `${config.publicUrl}/fhir`;
  const isResourceType = (type: string) => service.model.isResourceType(type);
  metrics?.http.useResourceTypes(isResourceType);
  const deps: RouteDeps = {
    config,
    service,
    security,
    context: (request: FastifyRequest): RequestContext => {
      invariant(request.fhirContext, 'the authentication hook runs before every protected route');
      return request.fhirContext;
    },
  };

  // Routes mounted by bench or test code (the raw-SQL baseline) guard themselves.
  const extraPrefixes = await registerExtraRoutes(app, extraRoutes, { db: service.db, fhirBaseUrl });
  app.decorateRequest('fhirContext', null);
  app.decorateRequest('errorSummary', null);
  // Callback hooks with a synchronous path: a request whose token and client this process knows
  // and whose rate this process can decide alone (almost every one) is authenticated without a
  // promise; the others take the asynchronous path, with the same checks in the same order.
  app.addHook('onRequest', (request, reply, done) => {
    let path: string;
    try {
      path = request.url.split('?', 1)[0];
      if (path.startsWith('/fhir')) {
        assertWellEncodedQuery(request.url);
        const query = request.query as Record<string, unknown>;
        // A Binary read answers its content in its own media type unless FHIR JSON is asked for.
        if (!(servesBinary(request) && request.method === 'GET')) assertAcceptsJson(request.headers.accept, query?._format);
      }
      if (PUBLIC_PATHS.has(path) || isConsolePath(path) || extraPrefixes.some((prefix) => path.startsWith(prefix))) return done();
      const known = security.authenticateNow(request, reply, fhirBaseUrl);
      if (known) {
        request.fhirContext = known;
        if (security.enforceClientRateNow(reply, known)) {
          assertServed(request, path);
          return done();
        }
      }
    } catch (err) {
      return done(err as Error);
    }
    authenticateLater(request, reply, path).then(() => done(), done);
  });
  const assertServed = (request: FastifyRequest, path: string) => {
    if (path.startsWith('/fhir')) assertOperationServed(path, request.routeOptions.url, isResourceType);
  };
  const authenticateLater = async (request: FastifyRequest, reply: FastifyReply, path: string) => {
    request.fhirContext ??= await security.authenticate(request, reply, fhirBaseUrl);
    await security.enforceClientRate(reply, request.fhirContext);
    assertServed(request, path);
  };
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ route: request.routeOptions?.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    metrics?.http.observe(request.method, request.routeOptions?.url, request.params, reply.statusCode, reply.elapsedTime);
    const ctx = request.fhirContext;
    if (ctx && !ctx.audit.recorded) {
      const record = auditRecordOf(ctx, reply.statusCode, request.errorSummary ?? undefined);
      if (reply.statusCode === 429) security.auditRefusal(record);
      else security.auditLog.enqueue(record);
    }
    done();
  });
  registerAuthRoutes(app, security);
  registerConsole(app);

  app.get('/healthz', async (_request, reply) => {
    const up = await service.db.ping();
    return reply.code(up ? 200 : 503).send({ status: up ? 'ok' : 'unavailable' });
  });
  const probes = readinessProbes(service.db);
  const readinessLimits = { ...config.readiness, probeTimeoutMs: READINESS_PROBE_TIMEOUT_MS };
  const sharedReadiness = new SharedReadiness(() => assessReadiness(probes, readinessLimits), READINESS_FRESH_MS);
  app.get('/readyz', async (_request, reply) => {
    const readiness = await sharedReadiness.get();
    return reply.code(readiness.status === 'ready' ? 200 : 503).header('cache-control', 'no-store').send(readiness);
  });

  // The graph's endpoints are routes of the table too, so the CapabilityStatement lists `$graphql`.
  const graphql = await startGraphQL(app, service, config, changeStreams && { streams: changeStreams, security, eventScope: clientWorkScope }, metrics?.graphql);
  if (graphql.subscriptions) serveGraphQLWebSocket(app, graphql.subscriptions);
  const routes = [...fhirRoutes, ...operationRoutes(operationRegistry({ webhooks, exports })), ...graphqlRoutes(graphql)];
  const capabilityStatement = buildCapabilityStatement(routes, service.model, config.publicUrl, version);
  app.get('/fhir/metadata', async (request, reply) => sendValue(request, reply, 200, capabilityStatement));

  const methodsByUrl = new Map<string, Set<HttpMethod>>();
  for (const route of [...routes, ...adminRoutes]) {
    const options = route.binary ? binaryRouteOptions(config, route.method !== 'GET') : bodyOptions(route.body, config);
    app.route({ method: route.method, url: route.url, ...options, handler: (request, reply) => route.handler(request, reply, deps) });
    if (route.binary) continue; // its URL's other methods are the generic route's
    const methods = methodsByUrl.get(route.url) ?? new Set<HttpMethod>();
    methods.add(route.method);
    methodsByUrl.set(route.url, methods);
  }
  methodsByUrl.set('/fhir/metadata', new Set(['GET']));
  for (const [url, methods] of methodsByUrl) {
    const others = ALL_METHODS.filter((m) => !methods.has(m));
    if (others.length === 0) continue;
    const allow = [...methods, ...(methods.has('GET') ? ['HEAD'] : [])].join(', ');
    app.route({
      method: others,
      url,
      handler: async (request, reply) => {
        reply.header('Allow', allow);
        throw methodNotAllowed(`${request.method} is not supported on ${url.replace(/:(\w+)/g, '{$1}')}`);
      },
    });
  }

  app.setNotFoundHandler(async (request, reply) => {
    const error = notFound(`No route for ${request.method} ${request.url.split('?')[0].slice(0, 200)}`);
    return reply.code(404).type(FHIR_JSON).send(JSON.stringify(error.outcome));
  });
  return app;
}
