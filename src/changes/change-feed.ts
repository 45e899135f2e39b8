/**
 * The change feed's reading side, one per process (src/changes/README.md): pages of committed
 * changes by cursor ({@link ChangeFeed.readAfter}), and an in-process fan-out of new ones
 * ({@link ChangeFeed.subscribe}) for GraphQL subscriptions and the webhook dispatcher. The
 * fan-out reads the database once per wake-up, whatever the number of subscribers: a wake-up is
 * this process's own sequencer round, a `NOTIFY` from another process's round, the poll (once a
 * second, `CHANGE_POLL_MS`) or the listening connection coming back after an outage.
 *
 * Each subscriber gets every event after its starting point exactly once, in feed order: one
 * resuming from a cursor first catches up from the table, page by page on its own, then joins
 * the live fan-out at the very position it has reached (both steps run on the one event loop, so
 * nothing slips between them).
 */
import { FhirError, invariant } from '../fhir/outcomes.ts';
import { readChangeEvents, readFeedBounds, readPositionAt, readVersionsByKey, type VersionKey } from '../store/change-event-repository.ts';
import type { Database } from '../store/database.ts';
import { PgListener } from '../store/pg-listener.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import type { StoredVersion } from '../store/resource-repository.ts';
import type { Worker } from '../store/worker.ts';
import { passesFilter, toChangeEvent, type ChangeEvent, type ChangeFilter } from './change-event.ts';
import { CHANGES_CHANNEL } from './change-sequencer.ts';
import { CursorExpired, decodeCursor, encodeCursor, invalidCursor } from './feed-cursor.ts';

/** Options of {@link ChangeFeed}. */
export interface ChangeFeedOptions {
  /** The safety-net poll period (`CHANGE_POLL_MS`). */
  pollMs: number;
  /** Events per database read (default 1000). */
  pageSize?: number;
  onError?: (err: unknown) => void;
}

/** What a subscriber is told. */
export interface FeedListener {
  /**
   * New events in feed order, each once. Called synchronously from the fan-out: buffer and
   * return, never block (a slow consumer is the subscriber's to bound and close).
   */
  onEvents(events: readonly ChangeEvent[]): void;
  /** The subscription cannot go on (its cursor expired while catching up); it is closed. */
  onError?(err: unknown): void;
}

/** Where a subscription starts and which events it wants. */
export interface SubscribeOptions extends FeedListener {
  /** Resume after this cursor; absent or null: only changes from now on. */
  after?: string | null;
  filter?: ChangeFilter;
}

/** A live subscription. */
export interface FeedSubscription {
  /** The cursor of the last position delivered or passed over (resume after it). */
  readonly cursor: string;
  close(): void;
}

/** A page read by cursor. */
export interface FeedPage {
  events: ChangeEvent[];
  /** Resume after this (past filtered-out events too). */
  cursor: string;
}

/** The version an event wrote and the one criteria are matched against. */
export interface EventVersions {
  /** The version written (a delete's is the deletion: content null). */
  written?: StoredVersion;
  /** The version criteria see: the one written, or for a delete the one before it. */
  matched?: StoredVersion;
}

class Subscriber {
  closed = false;
  constructor(readonly options: SubscribeOptions, public position: number, private readonly remove: (s: Subscriber) => void) {}

  deliver(events: readonly ChangeEvent[], onError: (err: unknown) => void): void {
    if (events.length === 0 || this.closed) return;
    try {
      this.options.onEvents(events);
    } catch (err) {
      onError(err);
    }
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.close();
    this.options.onError?.(err);
  }

  close(): void {
    this.closed = true;
    this.remove(this);
  }
}

const DEFAULT_PAGE = 1_000;
const MAX_PAGE = 10_000;

/** Reads the feed and fans new events out to this process's subscribers. */
export class ChangeFeed implements Worker {
  readonly name = 'change-feed';
  private liveHead = 0;
  /** Subscribers in the live fan-out. */
  private readonly live = new Set<Subscriber>();
  /** Every open subscriber, catching up or live. */
  private readonly subscribers = new Set<Subscriber>();
  private readonly listener: PgListener;
  private readonly pageSize: number;
  private readonly onError: (err: unknown) => void;
  private pumping: Promise<void> | undefined;
  private again = false;
  private running = false;
  private failures = 0;

  constructor(private readonly db: Database, options: ChangeFeedOptions) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE;
    this.onError = options.onError ?? (() => undefined);
    this.listener = new PgListener({
      databaseUrl: db.databaseUrl,
      channels: [CHANGES_CHANNEL],
      onNotification: (_channel, payload) => this.wake(Number(payload)),
      onReconnected: () => this.wake(),
      onPoll: () => this.wake(),
      pollMs: options.pollMs,
      onError: this.onError,
    });
  }

  /** Starts from the current head, listening and polling. */
  async start(): Promise<void> {
    this.liveHead = (await readFeedBounds(this.db)).head;
    this.running = true;
    await this.listener.start();
  }

  /** Stops listening, lets the read under way finish, and closes every subscription. */
  async stop(): Promise<void> {
    this.running = false;
    await this.listener.stop();
    await this.pumping;
    for (const subscriber of [...this.subscribers]) subscriber.close();
  }

  /** The position up to which this process has fanned events out. */
  get position(): number {
    return this.liveHead;
  }

  /**
   * Reads the events after `cursor` (null: from the oldest one kept), at most `limit`, in feed
   * order. 400 for a cursor that is not ours, {@link CursorExpired} when retention has pruned
   * events after it.
   */
  async readAfter(cursor: string | null, limit: number, filter?: ChangeFilter): Promise<FeedPage> {
    const after = cursor === null ? 0 : decodeCursor(cursor);
    const size = Math.min(Math.max(1, Math.trunc(limit)), MAX_PAGE);
    const page = await readChangeEvents(this.db, after, size, filter);
    if (cursor !== null && after < page.prunedThrough) throw new CursorExpired();
    if (after > page.head) throw invalidCursor();
    const events = page.events.map(toChangeEvent);
    const through = events.length === size ? events[events.length - 1].position : Math.max(after, page.head);
    return { events, cursor: encodeCursor(through) };
  }

  /**
   * The cursor to resume from for the events recorded at or after `instant` (a webhook
   * `$replay` since a time). {@link CursorExpired} when retention may have pruned some of them.
   */
  async cursorAt(instant: Date): Promise<string> {
    const { before, firstKept, prunedThrough } = await readPositionAt(this.db, instant);
    if (prunedThrough > 0 && firstKept !== undefined && before < firstKept) throw new CursorExpired();
    return encodeCursor(before);
  }

  /** The cursor of the newest event (resume after it: changes from now on). */
  async headCursor(): Promise<string> {
    return encodeCursor((await readFeedBounds(this.db)).head);
  }

  /**
   * Subscribes to the events after `options.after` (or from now on). Rejects at once with 400
   * for a foreign cursor and {@link CursorExpired} for a pruned one; the catch-up then runs in
   * the background, delivering through the same `onEvents`.
   */
  async subscribe(options: SubscribeOptions): Promise<FeedSubscription> {
    invariant(this.running, 'the change feed is started before anyone subscribes');
    const remove = (s: Subscriber) => {
      this.live.delete(s);
      this.subscribers.delete(s);
    };
    if (options.after === undefined || options.after === null) {
      const subscriber = new Subscriber(options, this.liveHead, remove);
      this.subscribers.add(subscriber);
      this.live.add(subscriber);
      return handle(subscriber);
    }
    const position = decodeCursor(options.after);
    const bounds = await readFeedBounds(this.db);
    if (position < bounds.prunedThrough) throw new CursorExpired();
    if (position > bounds.head) throw invalidCursor();
    const subscriber = new Subscriber(options, position, remove);
    this.subscribers.add(subscriber);
    void runOutsideQueryScope(() => this.catchUp(subscriber));
    return handle(subscriber);
  }

  /** Loads, in one statement, the versions the events wrote and, for deletes, the ones before them. */
  async loadVersions(events: readonly ChangeEvent[]): Promise<Map<number, EventVersions>> {
    const key = (k: VersionKey) => `${k.resourceType}/${k.id}/${k.versionId}`;
    const keys: VersionKey[] = [];
    for (const e of events) {
      keys.push(e);
      if (e.action === 'delete' && e.versionId > 1) keys.push({ resourceType: e.resourceType, id: e.id, versionId: e.versionId - 1 });
    }
    const found = await readVersionsByKey(this.db, keys);
    return new Map(events.map((e) => {
      const written = found.get(key(e));
      const matched = e.action === 'delete' ? found.get(key({ ...e, versionId: e.versionId - 1 })) : written;
      return [e.position, { written, matched }];
    }));
  }

  /** Reads new events now, or once more after the read under way (`head`: skip if already seen). */
  wake(head?: number): void {
    if (!this.running) return;
    if (head !== undefined && Number.isFinite(head) && head <= this.liveHead) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = runOutsideQueryScope(() => this.pump()).finally(() => {
      this.pumping = undefined;
      if (this.again) this.wake();
    });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      let page;
      try {
        page = await readChangeEvents(this.db, this.liveHead, this.pageSize);
        this.failures = 0;
      } catch (err) {
        if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
        return; // the poll tries again
      }
      if (page.prunedThrough > this.liveHead) {
        // This process fell behind retention (stalled for days): its subscribers would skip events.
        for (const subscriber of [...this.live]) subscriber.fail(new CursorExpired());
        this.liveHead = page.prunedThrough;
        this.again = true;
        continue;
      }
      const events = page.events.map(toChangeEvent);
      // No events above a higher head: those positions were deleted (a benchmark's clean-up).
      const through = events.length > 0 ? events[events.length - 1].position : Math.max(this.liveHead, page.head);
      for (const subscriber of this.live) {
        subscriber.deliver(events.filter((e) => e.position > subscriber.position && passesFilter(e, subscriber.options.filter)), this.onError);
        subscriber.position = Math.max(subscriber.position, through);
      }
      this.liveHead = through;
      if (events.length === this.pageSize) this.again = true;
    } while (this.again && this.running);
  }

  /** Brings a resuming subscriber up to the live position, then hands it to the fan-out. */
  private async catchUp(subscriber: Subscriber): Promise<void> {
    try {
      while (!subscriber.closed) {
        // Checked and joined in one synchronous step: the fan-out moves `liveHead` only between awaits.
        if (subscriber.position >= this.liveHead) {
          this.live.add(subscriber);
          return;
        }
        const through = this.liveHead;
        const page = await readChangeEvents(this.db, subscriber.position, this.pageSize, subscriber.options.filter, through);
        if (subscriber.closed) return;
        if (subscriber.position < page.prunedThrough) throw new CursorExpired();
        const events = page.events.map(toChangeEvent);
        subscriber.position = events.length === this.pageSize ? events[events.length - 1].position : through;
        subscriber.deliver(events, this.onError);
      }
    } catch (err) {
      subscriber.fail(err);
    }
  }
}

function handle(subscriber: Subscriber): FeedSubscription {
  return {
    get cursor() { return encodeCursor(subscriber.position); },
    close: () => subscriber.close(),
  };
}
