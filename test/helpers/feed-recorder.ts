/**
 * Records what a change-feed subscription receives, so a test can wait for an event (with a
 * generous timeout, never a fixed sleep) and then assert order and completeness.
 */
import type { ChangeEvent, ChangeFeed, ChangeFilter, FeedSubscription } from '../../src/changes/index.ts';

export interface FeedRecorder {
  readonly events: ChangeEvent[];
  /** When each event reached the subscriber (epoch ms), by position. */
  readonly receivedAt: Map<number, number>;
  readonly errors: unknown[];
  readonly subscription: FeedSubscription;
  /** Resolves with the first recorded event matching `test`, or rejects after `timeoutMs`. */
  waitFor(test: (event: ChangeEvent) => boolean, timeoutMs?: number): Promise<ChangeEvent>;
  /** The recorded events of one resource, as `action/versionId`. */
  historyOf(resourceType: string, id: string): string[];
  close(): void;
}

/** Subscribes to `feed` (after `after`, or from now) and records every event delivered. */
export async function recordFeed(feed: ChangeFeed, options: { after?: string; filter?: ChangeFilter } = {}): Promise<FeedRecorder> {
  const events: ChangeEvent[] = [];
  const receivedAt = new Map<number, number>();
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const subscription = await feed.subscribe({
    ...options,
    onEvents: (batch) => {
      const now = Date.now();
      for (const event of batch) receivedAt.set(event.position, now);
      events.push(...batch);
      for (const waiter of waiters) waiter();
    },
    onError: (err) => errors.push(err),
  });
  return {
    events,
    receivedAt,
    errors,
    subscription,
    waitFor(test, timeoutMs = 10_000) {
      const found = events.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const event = events.find(test);
          if (!event) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(event);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching change event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => `${e.resourceType}/${e.id} ${e.action}`))}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    historyOf(resourceType, id) {
      return events.filter((e) => e.resourceType === resourceType && e.id === id).map((e) => `${e.action}/${e.versionId}`);
    },
    close: () => subscription.close(),
  };
}
