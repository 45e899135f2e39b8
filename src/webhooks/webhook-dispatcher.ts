/**
 * The webhook dispatcher: reads the change feed from a durable cursor (`webhook-dispatcher`),
 * matches each event against the rest-hook Subscriptions (subscription-cache.ts,
 * match-events.ts) and enqueues one delivery job per (event, matching Subscription) **in the same
 * transaction that moves the cursor**, so each is enqueued exactly once across all processes and
 * none is lost in a crash. Every process runs one; a round runs only in the process that gets the
 * cursor's row lock (`FOR UPDATE SKIP LOCKED`), the others skip (the holder's own feed wakes it
 * for the same events). A round also takes up new Subscriptions (`requested` → `active`) and
 * turns off those whose `end` has passed. Wake-ups: every batch of the in-process feed, and a
 * poll every `CHANGE_POLL_MS`. Retention never prunes past the cursor.
 */
import { claimDurableCursor, createDurableCursor, saveDurableCursor, type ChangeFeed, type FeedPage, type FeedSubscription } from '../changes/index.ts';
import { FhirError } from '../fhir/outcomes.ts';
import { changeSubscriptionStatus } from '../service/subscription/subscription-status.ts';
import type { WriteRules } from '../service/write-ops.ts';
import { CoalescedRounds } from '../store/coalesced-rounds.ts';
import type { Database, Queryable } from '../store/database.ts';
import type { JobQueue } from '../store/job-queue.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import type { Worker } from '../store/worker.ts';
import type { AuthorRights } from './author-rights.ts';
import { matchEvents } from './match-events.ts';
import { SubscriptionCache } from './subscription-cache.ts';
import { DELIVERY_QUEUE } from './webhook-jobs.ts';
import { hasEnded, type SubscriptionReading, type WebhookSubscription } from './webhook-subscription.ts';

/** The dispatcher's durable cursor. */
export const DISPATCHER_CURSOR = 'webhook-dispatcher';
/** Events read per round (a bigger backlog takes several rounds, one after the other). */
const PAGE_SIZE = 500;

/** What the dispatcher needs. */
export interface DispatcherDeps {
  db: Database;
  feed: ChangeFeed;
  queue: JobQueue;
  rights: AuthorRights;
  writeRules: WriteRules;
  reading: SubscriptionReading;
  pollMs: number;
  /** Called after a round enqueued deliveries (this process's delivery worker). */
  onEnqueued: () => void;
  onError: (err: unknown) => void;
}

/** Matches committed changes against Subscriptions and enqueues their deliveries. */
export class WebhookDispatcher implements Worker {
  readonly name = 'webhook-dispatcher';
  private readonly cache: SubscriptionCache;
  private subscription: FeedSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly rounds: CoalescedRounds;

  constructor(private readonly deps: DispatcherDeps) {
    this.cache = new SubscriptionCache(deps.reading, deps.onError);
    this.rounds = new CoalescedRounds(async () => {
      const { enqueued, more } = await this.deps.db.transaction((tx) => this.round(tx));
      if (enqueued > 0) this.deps.onEnqueued();
      return more;
    }, deps.onError);
  }

  /** Creates the cursor at the feed's head the first time, then listens to the feed and polls. */
  async start(): Promise<void> {
    await createDurableCursor(this.deps.db, DISPATCHER_CURSOR, await this.deps.feed.headCursor());
    this.rounds.start();
    this.subscription = await this.deps.feed.subscribe({ onEvents: () => this.wake() });
    this.timer = runOutsideQueryScope(() => setInterval(() => this.wake(), this.deps.pollMs));
    this.timer.unref();
    this.wake();
  }

  /** Stops after the round under way. */
  async stop(): Promise<void> {
    this.subscription?.close();
    if (this.timer) clearInterval(this.timer);
    await this.rounds.stop();
  }

  /** Runs a round now, or one more after the round under way. */
  wake(): void {
    this.rounds.wake();
  }

  /** Runs rounds until the feed is drained (or another process holds the cursor); resolves when done. */
  async flush(): Promise<void> {
    await this.rounds.flush();
  }

  /** One round in `tx`: claim the cursor, read a page, match it, enqueue, move the cursor. */
  private async round(tx: Queryable): Promise<{ enqueued: number; more: boolean }> {
    const cursor = await claimDurableCursor(tx, DISPATCHER_CURSOR);
    if (cursor === undefined) return { enqueued: 0, more: false }; // another process is dispatching
    await this.cache.refresh(tx);
    const read = await this.readPage(tx, cursor);
    await this.takeUp(tx);
    if (!read) return { enqueued: 0, more: true }; // Subscriptions kept changing while it read: again
    const { byType, page } = read;
    const jobs = await matchEvents(page.events, byType, { feed: this.deps.feed, db: this.deps.db, rights: this.deps.rights, fhirBaseUrl: this.deps.reading.fhirBaseUrl });
    await this.deps.queue.enqueue(tx, DELIVERY_QUEUE, jobs.map((data) => ({ data })));
    await saveDurableCursor(tx, DISPATCHER_CURSOR, page.cursor);
    return { enqueued: jobs.length, more: page.events.length === PAGE_SIZE };
  }

  /**
   * Reads the page after `cursor` (only the types some Subscription follows; when none follows
   * anything, an empty page up to the head), then looks for Subscription changes once more: a
   * page counts only if none happened meanwhile, so every Subscription committed before a change
   * is known when that change is matched. Undefined when they kept changing.
   */
  private async readPage(tx: Queryable, cursor: string): Promise<{ byType: Map<string, WebhookSubscription[]>; page: FeedPage } | undefined> {
    for (let tries = 0; tries < 3; tries++) {
      const byType = this.cache.deliverableByType();
      const page = byType.size === 0
        ? { events: [], cursor: await this.deps.feed.headCursor() }
        : await this.deps.feed.readAfter(cursor, PAGE_SIZE, { resourceTypes: [...byType.keys()] });
      if (!(await this.cache.refresh(tx))) return { byType, page };
    }
    return undefined;
  }

  /** Activates requested Subscriptions and turns off the ones past their `end` (bookkeeping writes, in `tx`). */
  private async takeUp(tx: Queryable): Promise<void> {
    const { writeRules, reading } = this.deps;
    for (const subscription of this.cache.all()) {
      if (hasEnded(subscription)) {
        // One created already past its end is left as written; an active one is turned off.
        if (subscription.status === 'active' || subscription.status === 'error') {
          await changeSubscriptionStatus(tx, writeRules, reading.fhirBaseUrl, subscription.id, { from: ['active', 'error'], to: 'off' });
        }
        continue;
      }
      if (subscription.status === 'requested'
        && await changeSubscriptionStatus(tx, writeRules, reading.fhirBaseUrl, subscription.id, { from: ['requested'], to: 'active' })) {
        this.cache.setStatus(subscription.id, 'active');
      }
    }
  }
}
