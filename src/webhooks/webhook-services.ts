/**
 * Webhooks for one server process (README.md in this folder): the dispatcher, the delivery worker
 * and the replay worker, built over the change feed and the product's job queue (which
 * `startServer` creates and starts before them), and the worker list `startServer` starts (queue
 * settings, then dispatcher, deliveries, replays) and stops in reverse.
 */
import type { AuthState } from '../auth/auth-state.ts';
import type { ChangeFeed } from '../changes/index.ts';
import type { Config } from '../config.ts';
import type { AuditLog } from '../service/audit/audit-log.ts';
import type { RequestContext } from '../service/request-context.ts';
import type { WriteRules } from '../service/write-ops.ts';
import type { Database } from '../store/database.ts';
import type { JobQueue } from '../store/job-queue.ts';
import type { Worker } from '../store/worker.ts';
import type { JobMetrics } from '../telemetry/metrics/index.ts';
import { AuthorRights } from './author-rights.ts';
import { DeliveryWorker } from './delivery-worker.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { webhookQueues } from './webhook-jobs.ts';
import { ReplayWorker, requestReplay, type ReplayRequest } from './webhook-replay.ts';
import type { SubscriptionReading } from './webhook-subscription.ts';

/** What webhooks are built over. */
export interface WebhookServiceDeps {
  db: Database;
  feed: ChangeFeed;
  /** The product's one job queue (started before these workers by `startServer`). */
  queue: JobQueue;
  authState: AuthState;
  auditLog: AuditLog;
  writeRules: WriteRules;
  config: Config;
  onError: (err: unknown) => void;
  /** Counts delivery attempts (metrics on). */
  metrics?: JobMetrics;
}

/** Webhooks of one process. */
export interface WebhookServices {
  queue: JobQueue;
  dispatcher: WebhookDispatcher;
  deliveries: DeliveryWorker;
  replays: ReplayWorker;
  /** In start order. */
  workers: Worker[];
  /** `$replay`: re-delivers a Subscription's matching changes after `since` (webhook-replay.ts). */
  replay(ctx: RequestContext, id: string, since: string | undefined): Promise<ReplayRequest>;
}

/** The queues' settings, applied once the queue has started (its schema migrated). */
class QueueSetup implements Worker {
  readonly name = 'webhook-queues';
  constructor(private readonly db: Database, private readonly queue: JobQueue, private readonly config: Config) {}
  async start(): Promise<void> {
    await this.db.transaction((tx) => this.queue.ensureQueues(tx, webhookQueues(this.config.webhooks)));
  }
  async stop(): Promise<void> {}
}

/** Builds (without starting) the webhook parts of a process. */
export function createWebhookServices(deps: WebhookServiceDeps): WebhookServices {
  const { db, feed, queue, config, onError } = deps;
  const rights = new AuthorRights(deps.authState);
  const reading: SubscriptionReading = { search: config.limits.search, fhirBaseUrl: `${config.publicUrl}/fhir`, allowPrivate: config.webhookAllowPrivate };
  const pollMs = config.changes.pollMs;
  const deliveries = new DeliveryWorker({
    db, queue, rights, authState: deps.authState, reading, pollMs, onError,
    auditLog: deps.auditLog, writeRules: deps.writeRules, fhirBaseUrl: reading.fhirBaseUrl, config: config.webhooks, metrics: deps.metrics,
  });
  const onEnqueued = () => deliveries.wake();
  const dispatcher = new WebhookDispatcher({ db, feed, queue, rights, writeRules: deps.writeRules, reading, pollMs, onEnqueued, onError });
  const replayDeps = { db, feed, queue, rights, auditLog: deps.auditLog, reading, pollMs, onEnqueued, onError };
  const replays = new ReplayWorker(replayDeps);
  return {
    queue,
    dispatcher,
    deliveries,
    replays,
    workers: [new QueueSetup(db, queue, config), dispatcher, deliveries, replays],
    replay: async (ctx, id, since) => {
      const request = await requestReplay(replayDeps, ctx, id, since);
      replays.wake();
      return request;
    },
  };
}
