/**
 * `POST /fhir/Subscription/{id}/$replay?since=…`: re-delivers, from the change feed, the changes
 * after `since` (a feed cursor, as webhooks carry in `X-Fhirgraph-Event-Cursor`, or an instant)
 * that match the Subscription now, up to where the dispatcher had got when it was asked (later
 * ones it delivers anyway). Deliveries carry their original event ids, so a receiver that kept
 * them can drop the ones it has. The request only enqueues the replay; a replay job then matches
 * one page of the feed at a time, each page's deliveries enqueued in the transaction that
 * completes its job and enqueues the next page, with a durable cursor holding its place (and
 * keeping retention from pruning what it still has to read). Only the Subscription's creator may
 * replay it, and only while it is `active` or in `error`.
 */
import { randomUUID } from 'node:crypto';
import { createDurableCursor, decodeCursor, deleteDurableCursor, encodeCursor, loadDurableCursor, saveDurableCursor, type ChangeFeed } from '../changes/index.ts';
import { badRequest, conflict, FhirError, forbidden, notFound } from '../fhir/outcomes.ts';
import type { AuditLog } from '../service/audit/audit-log.ts';
import { startInteraction } from '../service/interaction-start.ts';
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { auditRecordOf, type RequestContext } from '../service/request-context.ts';
import type { Database, Queryable } from '../store/database.ts';
import type { JobQueue, QueuedJob } from '../store/job-queue.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import { readWebhookSubscriptions } from '../store/webhook-repository.ts';
import type { Worker } from '../store/worker.ts';
import type { AuthorRights } from './author-rights.ts';
import { matchEvents } from './match-events.ts';
import { DISPATCHER_CURSOR } from './webhook-dispatcher.ts';
import { DELIVERY_QUEUE, REPLAY_QUEUE, type ReplayJob } from './webhook-jobs.ts';
import { isDeliverable, readWebhookSubscription, type SubscriptionReading, type WebhookSubscription } from './webhook-subscription.ts';
import { traceJob } from '../telemetry/tracing/index.ts';

/** Events read per replay page. */
const PAGE_SIZE = 500;
/** A FHIR `instant` or `dateTime` (https://hl7.org/fhir/R4/datatypes.html#dateTime). */
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** What replays need. */
export interface ReplayDeps {
  db: Database;
  feed: ChangeFeed;
  queue: JobQueue;
  rights: AuthorRights;
  auditLog: AuditLog;
  reading: SubscriptionReading;
  pollMs: number;
  /** Called after a page enqueued deliveries (this process's delivery worker). */
  onEnqueued: () => void;
  onError: (err: unknown) => void;
}

/** What a `$replay` request set going. */
export interface ReplayRequest {
  /** The cursor it replays after, and the one it replays through. */
  after: string;
  through: string;
  /** False when there was nothing to replay. */
  queued: boolean;
}

const cursorName = (replayId: string) => `webhook-replay:${replayId}`;

/** The Subscription `id` with its private side; 404 when unknown or deleted. */
async function loadSubscription(q: Queryable, reading: SubscriptionReading, id: string): Promise<{ subscription?: WebhookSubscription; author: string }> {
  const row = (await readWebhookSubscriptions(q, [id])).get(id);
  if (!row || row.deleted) throw notFound(`Subscription/${id} is not known`);
  return { subscription: readWebhookSubscription(row, reading), author: row.authorClientId };
}

/** The cursor `since` stands for: a feed cursor, or the start of the events recorded at or after an instant. */
async function cursorOf(feed: ChangeFeed, since: string | undefined): Promise<string> {
  if (!since) throw badRequest('$replay needs since: an event cursor (X-Fhirgraph-Event-Cursor) or an instant', 'since');
  if (INSTANT.test(since)) {
    const instant = new Date(since.length === 10 ? `${since}T00:00:00Z` : since);
    if (Number.isNaN(instant.getTime())) throw badRequest(`since "${since.slice(0, 40)}" is not a valid instant`, 'since');
    return feed.cursorAt(instant);
  }
  await feed.readAfter(since, 1); // 400 for a foreign cursor, 410 for a pruned one
  return since;
}

/**
 * Starts a replay of `Subscription/id` after `since` for the caller (its creator): checks it,
 * enqueues the first page with the request's AuditEvent in one transaction, and says what it
 * covers.
 */
export async function requestReplay(deps: ReplayDeps, ctx: RequestContext, id: string, since: string | undefined): Promise<ReplayRequest> {
  startInteraction(ctx, loadFhirModel(), { action: 'E', interaction: 'operation', types: ['Subscription'], permissions: [['Subscription', 'u']], id });
  ctx.audit.touch(`Subscription/${id}`);
  const { subscription, author } = await loadSubscription(deps.db, deps.reading, id);
  if (author !== ctx.auth.clientId && ctx.auth.clientId !== 'system') throw forbidden('Only the client that created this Subscription may replay it');
  if (!subscription) throw conflict('Only a rest-hook Subscription can be replayed');
  if (subscription.status !== 'active' && subscription.status !== 'error') {
    throw conflict(`Subscription/${id} is ${subscription.status}: it can be replayed once it is active (set its status to requested to restart it)`);
  }
  const after = await cursorOf(deps.feed, since);
  const through = (await loadDurableCursor(deps.db, DISPATCHER_CURSOR)) ?? (await deps.feed.headCursor());
  const queued = decodeCursor(after) < decodeCursor(through);
  await deps.db.transaction(async (tx) => {
    if (queued) {
      const replayId = randomUUID();
      await createDurableCursor(tx, cursorName(replayId), after);
      await deps.queue.enqueue<ReplayJob>(tx, REPLAY_QUEUE, [{ data: { subscriptionId: id, replayId, after, until: through } }]);
    }
    await deps.auditLog.writeInTransaction(tx, auditRecordOf(ctx, 202));
  });
  ctx.audit.recorded = true;
  return { after, through, queued };
}

/** Works through replay jobs, one page at a time. */
export class ReplayWorker implements Worker {
  readonly name = 'webhook-replay';
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private failures = 0;

  constructor(private readonly deps: ReplayDeps) {}

  start(): void {
    this.running = true;
    this.loop = runOutsideQueryScope(() => this.run());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  /** Looks for replay jobs now. */
  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const [job] = await this.deps.queue.fetch<ReplayJob>(REPLAY_QUEUE, 1);
        if (job) {
          const enqueued = await traceJob(REPLAY_QUEUE, () => this.deps.db.transaction((tx) => this.page(tx, job)));
          if (enqueued > 0) this.deps.onEnqueued();
          this.failures = 0;
          continue;
        }
      } catch (err) {
        // Not recorded: the job stays active, expires and is tried again.
        if (this.failures++ === 0 || !(err instanceof FhirError)) this.deps.onError(err);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), this.deps.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** Matches one page of the replay in `tx`, enqueues its deliveries and the next page (or ends it). */
  private async page(tx: Queryable, job: QueuedJob<ReplayJob>): Promise<number> {
    const { subscriptionId, replayId, after, until } = job.data;
    await this.deps.queue.complete(tx, REPLAY_QUEUE, [job.id]);
    const row = (await readWebhookSubscriptions(tx, [subscriptionId])).get(subscriptionId);
    const subscription = row && readWebhookSubscription(row, this.deps.reading);
    if (!subscription || !isDeliverable(subscription)) {
      await deleteDurableCursor(tx, cursorName(replayId));
      return 0;
    }
    const through = decodeCursor(until);
    const type = subscription.criteria.resourceType;
    const page = await this.deps.feed.readAfter(after, PAGE_SIZE, { resourceTypes: [type] });
    const events = page.events.filter((e) => e.position <= through);
    const jobs = await matchEvents(events, new Map([[type, [subscription]]]), {
      feed: this.deps.feed, db: this.deps.db, rights: this.deps.rights, fhirBaseUrl: this.deps.reading.fhirBaseUrl,
    });
    await this.deps.queue.enqueue(tx, DELIVERY_QUEUE, jobs.map((data) => ({ data })));
    const reached = Math.min(decodeCursor(page.cursor), through);
    if (reached >= through || page.events.length < PAGE_SIZE) {
      await deleteDurableCursor(tx, cursorName(replayId));
    } else {
      await saveDurableCursor(tx, cursorName(replayId), encodeCursor(reached));
      await this.deps.queue.enqueue<ReplayJob>(tx, REPLAY_QUEUE, [{ data: { ...job.data, after: encodeCursor(reached) } }]);
    }
    return jobs.length;
  }
}
