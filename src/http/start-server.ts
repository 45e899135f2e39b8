/**
 * Starts the whole server for a configuration: the database (the configured one or the
 * embedded PostgreSQL), migrations, the background workers (auth state, rate-limit sync, audit
 * flush, the change feed's reader, sequencer and retention, the job queue and the webhook
 * dispatcher, delivery and replay workers, the export worker and retention), the core service, the HTTP app
 * and the metrics listener (`METRICS_PORT`), and returns one `close()` that stops them in reverse order. `main.ts` and the integration tests
 * both use it.
 */
import type { FastifyInstance } from 'fastify';
import { Security } from '../access/security.ts';
import type { Config } from '../config.ts';
import { ChangeStreams } from '../service/change-streams/change-streams.ts';
import { FhirService } from '../service/fhir-service.ts';
import { createChangeServices, type ChangeServices } from '../changes/index.ts';
import { Database } from '../store/database.ts';
import { resolveDatabase } from '../store/resolve-database.ts';
import { JobQueue } from '../store/job-queue.ts';
import { WorkerList } from '../store/worker.ts';
import { createWebhookServices, type WebhookServices } from '../webhooks/index.ts';
import { createExportServices, type ExportServices } from '../operations/export/index.ts';
import { backlogProbes } from '../store/readiness-repository.ts';
import { createMetrics, listenForMetrics, type Metrics, type MetricsListener } from '../telemetry/metrics/index.ts';
import { createLogger, backgroundErrorReporters, type LogDestination } from '../telemetry/logging/index.ts';
import { startTracing } from '../telemetry/tracing/index.ts';
import { buildApp } from './build-app.ts';
import type { ExtraRoutes } from './extra-routes.ts';

export interface RunningServer {
  app: FastifyInstance;
  service: FhirService;
  security: Security;
  /** The change feed of this process (src/changes/README.md). */
  changes: ChangeServices;
  /** Webhook delivery of this process (src/webhooks/README.md). */
  webhooks: WebhookServices;
  /** Bulk Data export of this process (src/operations/export/README.md). */
  exports: ExportServices;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:9464/metrics`; undefined when metrics are off (`METRICS_PORT=0`). */
  metricsUrl: string | undefined;
  /** The recorders of this server's metrics; undefined when they are off. */
  metrics: Metrics | undefined;
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Logs (requests, background failures): `false` silences them (tests), a stream receives them as JSON lines. */
  logger?: LogDestination;
  /** The embedded database's progress, one line each (default: the logger, at `info`). */
  log?: (msg: string) => void;
  /** Routes that bench or test code mounts beside the API (the raw-SQL baseline); none in production. */
  extraRoutes?: readonly ExtraRoutes[];
}

/** Starts database, service and HTTP server; `port: 0` picks a free port. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = createLogger(config.logLevel, options.logger ?? true);
  // Off (no OTLP endpoint set) this loads nothing and every call site takes its untraced path.
  const tracing = await startTracing(config.otel);
  const database = await resolveDatabase(config, options.log ?? ((msg) => logger.info({ component: 'database' }, msg)))
    .catch(async (err: unknown) => {
      await tracing.shutdown().catch(() => undefined);
      throw err;
    });
  let db: Database | undefined;
  let workers: WorkerList | undefined;
  let metricsListener: MetricsListener | undefined;
  let built: FastifyInstance | undefined;
  try {
    const metrics = createMetrics(config.metrics);
    db = await Database.open(database.databaseUrl, { poolSize: config.poolSize, acquireTimeoutMs: config.dbAcquireTimeoutMs, statements: metrics?.database });
    const opened = db;
    metrics?.database.watchPool(() => opened.poolStats());
    metrics?.backlog.watch(backlogProbes(db));
    const onErrorOf = backgroundErrorReporters(logger);
    const security = await Security.start(db, config, onErrorOf('auth'), metrics?.security);
    const changes = createChangeServices(db, config.changes, onErrorOf('changes'));
    const service = new FhirService(db, security.auditLog, {
      defaultCount: config.defaultCount, maxCount: config.maxCount, search: config.limits.search, resource: config.limits.resource,
      webhookAllowPrivate: config.webhookAllowPrivate,
      maxBinaryBytes: config.maxBinaryBytes, maxInlineBinaryBytes: config.maxResourceBodyBytes,
    });
    // The product's one job queue (pg-boss): webhook deliveries and replays, exports.
    const queue = new JobQueue(db.databaseUrl, onErrorOf('jobs'));
    const webhooks = createWebhookServices({
      db, feed: changes.feed, queue, authState: security.state, auditLog: security.auditLog, writeRules: service.writeRules, config, onError: onErrorOf('webhooks'), metrics: metrics?.jobs,
    });
    const exports = createExportServices({ db, model: service.model, queue, config, onError: onErrorOf('export'), metrics: metrics?.jobs });
    // Background loops, started in order and stopped in reverse once the HTTP server has closed.
    workers = new WorkerList([...security.workers, ...changes.workers, queue, ...webhooks.workers, ...exports.workers]);
    await workers.start();
    const changeStreams = new ChangeStreams({ db, model: service.model, searchLimits: config.limits.search }, changes.feed, `${config.publicUrl}/fhir`);
    const app = await buildApp({ config, service, security, webhooks, exports, logger, extraRoutes: options.extraRoutes, changeStreams, metrics });
    built = app;
    // Its own listener: none of the API's hooks (token, rate limit, audit) run on a scrape.
    if (metrics) metricsListener = await listenForMetrics(metrics.registry, config.metrics.host, config.metrics.port === 'ephemeral' ? 0 : config.metrics.port);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const started = workers;
    const scraped = metricsListener;
    let closing: Promise<void> | undefined;
    return {
      app,
      service,
      security,
      changes,
      webhooks,
      exports,
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
      metricsUrl: scraped?.url,
      metrics,
      close: () => (closing ??= (async () => {
        await scraped?.close();
        await app.close();
        await started.stop();
        await opened.close();
        await database.stop();
        await tracing.shutdown();
      })()),
    };
  } catch (err) {
    await metricsListener?.close().catch(() => undefined);
    await built?.close().catch(() => undefined); // METRICS_PORT or PORT taken: the GraphQL schema worker stops too
    await workers?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await database.stop().catch(() => undefined);
    await tracing.shutdown().catch(() => undefined);
    throw err;
  }
}
