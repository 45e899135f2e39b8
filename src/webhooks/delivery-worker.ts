/**
 * The delivery worker, one per process: takes delivery jobs from the queue (`WEBHOOK_CONCURRENCY`
 * attempts at once), and for each checks that the Subscription still delivers (not deleted, not
 * `off`, not past its `end`) and that its author may still read the resource, POSTs the event
 * (post-webhook.ts) and records the attempt with the job's next state in one transaction
 * (delivery-record.ts). Woken by this process's dispatcher after it enqueued something; otherwise
 * it looks for jobs (other processes', retries that came due, jobs of a process that died) every
 * `CHANGE_POLL_MS`. Each batch loads its Subscriptions and its versions' content in one statement each.
 */
import { FhirError } from '../fhir/outcomes.ts';
import { readVersionsByKey } from '../store/change-event-repository.ts';
import type { Database } from '../store/database.ts';
import type { JobQueue, QueuedJob } from '../store/job-queue.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import { readWebhookSubscriptions } from '../store/webhook-repository.ts';
import type { Worker } from '../store/worker.ts';
import type { AuthState } from '../auth/auth-state.ts';
import type { AuthorRights } from './author-rights.ts';
import { isDelivered, recordOutcomes, type Outcome, type RecordDeps } from './delivery-record.ts';
import type { JobMetrics } from '../telemetry/metrics/index.ts';
import { postWebhook, WebhookAgents } from './post-webhook.ts';
import { traceJob, traceWebhookDelivery } from '../telemetry/tracing/index.ts';
import { DELIVERY_QUEUE, type DeliveryJob } from './webhook-jobs.ts';
import { buildWebhookRequest } from './webhook-request.ts';
import { isDeliverable, readWebhookSubscription, type SubscriptionReading, type WebhookSubscription } from './webhook-subscription.ts';

/** What the delivery worker needs. */
export interface DeliveryDeps extends RecordDeps {
  db: Database;
  queue: JobQueue;
  rights: AuthorRights;
  authState: AuthState;
  reading: SubscriptionReading;
  pollMs: number;
  onError: (err: unknown) => void;
  /** Counts attempts by outcome (metrics on). */
  metrics?: JobMetrics;
}

/** Outcomes recorded in one transaction at most. */
const RECORD_BATCH = 200;

/** Takes delivery jobs and attempts them. */
export class DeliveryWorker implements Worker {
  readonly name = 'webhook-delivery';
  private readonly agents = new WebhookAgents();
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private readonly attempts = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private failures = 0;
  private readonly pending: { outcome: Outcome; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly deps: DeliveryDeps) {}

  start(): void {
    this.running = true;
    this.loop = runOutsideQueryScope(() => this.run());
  }

  /** Stops taking jobs and waits for the attempts under way (each ends within `WEBHOOK_TIMEOUT_MS`). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.all([...this.attempts]);
    this.agents.destroy();
  }

  /** Looks for jobs now (the dispatcher enqueued some, or an attempt finished). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      const { concurrency } = this.deps.config;
      const free = concurrency - this.inFlight;
      // Fetch for a quarter of the slots at least (or when idle), so jobs come in batches, not one by
      // one; and not while outcomes wait to be recorded beyond a batch's worth (the database is behind).
      if (free > 0 && (free >= Math.ceil(concurrency / 4) || this.inFlight === 0) && this.pending.length < RECORD_BATCH) {
        let jobs: QueuedJob<DeliveryJob>[] = [];
        try {
          jobs = await this.deps.queue.fetch<DeliveryJob>(DELIVERY_QUEUE, free);
        } catch (err) {
          this.report(err);
        }
        if (jobs.length > 0) {
          this.startBatch(jobs);
          continue;
        }
      }
      if (!this.woken && this.running) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.deps.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /**
   * Starts a batch's attempts. Each frees its slot when its request has ended; its outcome is
   * then recorded with others (the job stays active until then, so a crash meanwhile only means
   * the attempt is made again).
   */
  private startBatch(jobs: QueuedJob<DeliveryJob>[]): void {
    this.inFlight += jobs.length;
    const loaded = this.load(jobs);
    for (const job of jobs) {
      const attempt: Promise<void> = loaded
        .then(({ subscriptions, contents }) => traceJob(DELIVERY_QUEUE, () => this.deliverOne(job, subscriptions.get(job.data.subscriptionId), contents.get(job.data.position))))
        .then((outcome) => {
          this.deps.metrics?.webhookAttempt(outcome.kind !== 'attempt' ? outcome.kind : isDelivered(outcome.result) ? 'delivered' : 'failed');
          this.inFlight -= 1;
          this.wake();
          return this.record(outcome);
        }, (err: unknown) => {
          this.inFlight -= 1;
          throw err;
        })
        .catch((err: unknown) => this.report(err)) // not recorded: the job stays active, expires and is tried again
        .finally(() => {
          this.attempts.delete(attempt);
          this.wake();
        });
      this.attempts.add(attempt);
    }
  }

  /** What a batch needs, in two statements: its Subscriptions (with their secrets) and the content of the versions it sends. */
  private async load(jobs: QueuedJob<DeliveryJob>[]): Promise<{ subscriptions: Map<string, WebhookSubscription | undefined>; contents: Map<number, string> }> {
    const rows = await readWebhookSubscriptions(this.deps.db, [...new Set(jobs.map((j) => j.data.subscriptionId))], { withSecret: true });
    const subscriptions = new Map<string, WebhookSubscription | undefined>();
    for (const [id, row] of rows) {
      try {
        subscriptions.set(id, readWebhookSubscription(row, this.deps.reading));
      } catch (err) {
        this.report(err);
      }
    }
    const withBody = jobs.filter((j) => j.data.action !== 'delete' && subscriptions.get(j.data.subscriptionId)?.channel.sendResource);
    return { subscriptions, contents: await this.loadContents(withBody.map((j) => j.data)) };
  }

  /** The JSON text of the versions the events wrote, by event position (one statement). */
  private async loadContents(events: DeliveryJob[]): Promise<Map<number, string>> {
    if (events.length === 0) return new Map();
    const found = await readVersionsByKey(this.deps.db, events);
    const contents = new Map<number, string>();
    for (const e of events) {
      const content = found.get(`${e.resourceType}/${e.id}/${e.versionId}`)?.content;
      if (content) contents.set(e.position, content);
    }
    return contents;
  }

  /** Checks a delivery, and attempts it. */
  private async deliverOne(job: QueuedJob<DeliveryJob>, subscription: WebhookSubscription | undefined, content: string | undefined): Promise<Outcome> {
    // Deleted, turned off, past its end, or no longer a rest-hook: the event is not delivered.
    if (!subscription || !isDeliverable(subscription)) return { kind: 'dropped', job };
    const author = subscription.author.clientId;
    const authorName = (await this.deps.authState.client(author))?.name ?? author;
    const delivery = { job, subscription, authorName, startedAt: Date.now() };
    const refusal = await this.deps.rights.refusal(subscription.author, job.data.resourceType, subscription.criteria.searchedTypes);
    if (refusal) return { kind: 'refused', delivery, reason: refusal };
    const request = buildWebhookRequest(subscription, job.data, content);
    const { endpoint } = subscription.channel;
    const post = () => postWebhook(endpoint, request, { timeoutMs: this.deps.config.timeoutMs, allowPrivate: this.deps.reading.allowPrivate, agents: this.agents });
    // Traced, the endpoint gets the attempt's `traceparent`.
    const result = await traceWebhookDelivery(endpoint, request.headers, post);
    return { kind: 'attempt', delivery, result };
  }

  /**
   * Records an outcome with the others that finish meanwhile, in one transaction per batch
   * (one batch at a time; outcomes arriving during a commit form the next). Resolves once committed.
   */
  private record(outcome: Outcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ outcome, resolve, reject });
      this.flushing ??= this.flush().finally(() => { this.flushing = undefined; });
    });
  }

  private async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // attempts that finish together join the batch
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, RECORD_BATCH);
      try {
        await this.deps.db.transaction((tx) => recordOutcomes(tx, this.deps, batch.map((b) => b.outcome)));
        this.failures = 0;
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  }

  private report(err: unknown): void {
    if (this.failures++ === 0 || !(err instanceof FhirError)) this.deps.onError(err);
  }
}
