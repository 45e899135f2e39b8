/**
 * One subscriber's stream of committed changes of one resource type: the events after a cursor
 * (or from now on), filtered by action, matched against FHIR search criteria on the version each
 * event wrote (a delete on the version before it), checked against the subscriber's access before
 * each delivery, and handed out in feed order as an async iterator. A GraphQL subscription maps it
 * over `execute`; nothing here knows of GraphQL or WebSocket.
 *
 * Resuming from a cursor reads the feed page by page, a page only when the consumer has taken
 * most of the previous one, then joins the live fan-out where the pages ended
 * (`ChangeFeed.subscribe` with `after`: no gap and no duplicate at the seam). Live events are
 * pushed by the feed without waiting for anyone; the stream holds them as they come (the event
 * objects are the feed's, shared by every stream) and matches them when its consumer asks for
 * more. It counts what it holds ({@link ChangeStream.queued}) and reports every growth to
 * `onQueued`, which decides when a consumer is too slow to keep (the WebSocket facade closes its
 * socket).
 * https://hl7.org/fhir/R4/subscription.html
 */
import type { ChangeAction, ChangeCriteria, ChangeEvent, ChangeFeed, ChangeFilter, FeedSubscription } from '../../changes/index.ts';
import { matchesCriteria } from '../../changes/index.ts';
import type { Queryable } from '../../store/database.ts';
import { authorize } from '../authorize.ts';
import type { RequestContext } from '../request-context.ts';
import type { EventVersionCache, EventVersions } from './event-versions.ts';

/** One change delivered: the event and the versions it wrote and was matched on. */
export interface ChangeDelivery {
  readonly event: ChangeEvent;
  readonly versions: EventVersions;
}

/** What a stream is told and asks while it runs. */
export interface ChangeStreamHooks {
  /** Called whenever the stream holds more for its consumer (after each batch of events). */
  onQueued?(stream: ChangeStream): void;
  /**
   * Checked before each delivery, after the scope check: throws when the subscriber may no
   * longer receive events (its token expired or was revoked, its client disabled).
   */
  checkAccess?(): void;
  /**
   * What the consumer may be left holding before `onQueued` judges it too slow: resuming from a
   * cursor reads pages of at most half of it, so catching up never passes it (default: no bound).
   */
  maxQueued?: number;
}

/** Where and how a stream reads. */
export interface ChangeStreamSetup {
  feed: ChangeFeed;
  versions: EventVersionCache;
  /** Where chains and `_has` are evaluated against current data. */
  db: Queryable;
  ctx: RequestContext;
  resourceType: string;
  criteria: ChangeCriteria | undefined;
  actions: readonly ChangeAction[] | undefined;
  hooks: ChangeStreamHooks;
}

/** Events per catch-up page, and per chunk matched at once. */
const PAGE = 500;

/** A subscriber's change stream; see the module comment. */
export class ChangeStream implements AsyncIterableIterator<ChangeDelivery> {
  /** Changes delivered so far. */
  delivered = 0;
  /** Events received, not yet matched: shared with every other stream, so each costs a slot here. */
  private readonly raw: ChangeEvent[] = [];
  /** Matched events of the chunk being delivered. */
  private readonly ready: ChangeDelivery[] = [];
  /** Events of the chunk being matched, not yet judged. */
  private matching = 0;
  private failure: { error: unknown } | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private subscription: FeedSubscription | undefined;
  private readonly filter: ChangeFilter;
  /** Events per catch-up page. */
  private readonly page: number;

  constructor(private readonly setup: ChangeStreamSetup) {
    this.filter = { resourceTypes: [setup.resourceType], ...(setup.actions ? { actions: setup.actions } : {}) };
    this.page = Math.max(1, Math.min(PAGE, Math.floor((setup.hooks.maxQueued ?? Infinity) / 2)));
  }

  /** The resource type whose changes the stream carries. */
  get resourceType(): string {
    return this.setup.resourceType;
  }

  /** Events the stream holds for its consumer: received and not yet delivered (or passed over). */
  get queued(): number {
    return this.raw.length + this.matching + this.ready.length;
  }

  /**
   * Starts reading: live from now on without a cursor; with one, its first page is read before
   * this resolves, so a cursor that is not ours (400) or has expired (`CursorExpired`, 410)
   * rejects here, before anything is delivered.
   */
  async start(since: string | null): Promise<void> {
    if (since === null) {
      this.subscription = await this.setup.feed.subscribe({ filter: this.filter, onEvents: (events) => this.enqueue(events), onError: (err) => this.fail(err) });
      return;
    }
    const first = await this.setup.feed.readAfter(since, this.page, this.filter);
    void this.catchUp(first.events, first.cursor).catch((err: unknown) => this.fail(err));
  }

  /** Reads page after page as the consumer takes them, then joins the live fan-out where the pages end. */
  private async catchUp(events: ChangeEvent[], cursor: string): Promise<void> {
    for (;;) {
      this.enqueue(events);
      if (events.length < this.page) break;
      // Hold at most two pages: the next is read once the consumer has taken the previous.
      while (!this.closed && this.queued > this.page) await new Promise<void>((resolve) => { this.drained = resolve; });
      if (this.closed) return;
      ({ events, cursor } = await this.setup.feed.readAfter(cursor, this.page, this.filter));
    }
    if (this.closed) return;
    const subscription = await this.setup.feed.subscribe({ after: cursor, filter: this.filter, onEvents: (e) => this.enqueue(e), onError: (err) => this.fail(err) });
    if (this.closed) subscription.close();
    else this.subscription = subscription;
  }

  /** Called by the feed, synchronously: holds the events and tells the hook, which may find the consumer too slow. */
  private enqueue(events: readonly ChangeEvent[]): void {
    if (this.closed || events.length === 0) return;
    for (const event of events) this.raw.push(event);
    this.wake?.();
    this.setup.hooks.onQueued?.(this);
  }

  /**
   * Matches the next chunk of held events. It runs when the consumer asks for more, so the
   * consumers that keep up ask in the same tick after a wake-up and share one read of the
   * versions; one that lags reads them from the cache (or again) later.
   */
  private async matchChunk(): Promise<void> {
    const chunk = this.raw.splice(0, PAGE);
    this.matching = chunk.length;
    try {
      const loaded = await this.setup.versions.load(chunk);
      for (const [i, event] of chunk.entries()) {
        if (this.closed) return;
        const matched = await this.matches(loaded[i]);
        this.matching -= 1;
        if (matched) this.ready.push({ event, versions: loaded[i] });
      }
    } finally {
      this.matching = 0;
      // Events passed over are no longer held.
      this.drained?.();
    }
  }

  private async matches(versions: EventVersions): Promise<boolean> {
    // A version that history no longer holds cannot be shown or matched.
    if (!versions.written) return false;
    const { criteria } = this.setup;
    if (!criteria) return true;
    const indexed = versions.indexed;
    return indexed !== undefined && matchesCriteria(criteria, indexed, this.setup.db);
  }

  /** Ends the stream with `error` once what it holds has been delivered. */
  fail(error: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = { error };
    this.subscription?.close();
    this.wake?.();
  }

  async next(): Promise<IteratorResult<ChangeDelivery>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      const delivery = this.ready.shift();
      if (delivery) {
        this.drained?.();
        this.authorizeDelivery();
        this.delivered += 1;
        this.setup.ctx.audit.touch(`${delivery.event.resourceType}/${delivery.event.id}`);
        return { value: delivery, done: false };
      }
      if (this.raw.length > 0) {
        try {
          await this.matchChunk();
        } catch (err) {
          this.close();
          throw err;
        }
        continue;
      }
      if (this.failure) {
        const { error } = this.failure;
        this.close();
        throw error;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  /** The subscriber's access, checked again before each delivery; a refusal ends the stream. */
  private authorizeDelivery(): void {
    try {
      authorize(this.setup.ctx, this.setup.resourceType, 'r');
      this.setup.hooks.checkAccess?.();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  async return(): Promise<IteratorResult<ChangeDelivery>> {
    this.close();
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<ChangeDelivery>> {
    this.close();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops reading and lets go of everything held; a waiting `next()` ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.close();
    this.raw.length = 0;
    this.ready.length = 0;
    this.wake?.();
    this.drained?.();
  }
}
