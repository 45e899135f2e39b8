/**
 * The webhook jobs of the job queue (src/store/job-queue.ts): one delivery job per event and
 * matching Subscription, and one replay job per page of a `$replay`. A job holds keys only (the
 * body is read from history when it is sent), so its size does not grow with the resource.
 */
import type { ChangeAction } from '../changes/index.ts';
import type { WebhookConfig } from '../config.ts';
import type { QueueSettings } from '../store/job-queue.ts';

/** Delivery attempts: one job per (event, Subscription), re-enqueued with a delay after a failure. */
export const DELIVERY_QUEUE = 'webhook-delivery';
/** `$replay` pages: each job matches one page of the feed and enqueues the next. */
export const REPLAY_QUEUE = 'webhook-replay';

/** One event to deliver to one Subscription. */
export interface DeliveryJob {
  subscriptionId: string;
  /** The event's feed position (its cursor is the event's stable id, with the Subscription's). */
  position: number;
  resourceType: string;
  id: string;
  versionId: number;
  action: ChangeAction;
  /** 1 for the first attempt. */
  attempt: number;
  /** When the first attempt was made (ISO), from the second attempt on. */
  firstAttemptAt?: string;
}

/** One page of a replay: the events after `after` up to `until` (cursors). */
export interface ReplayJob {
  subscriptionId: string;
  /** Names the durable cursor that holds the replay's place (and keeps retention from pruning it). */
  replayId: string;
  after: string;
  until: string;
}

/** The queues' settings for a configuration. */
export function webhookQueues(config: WebhookConfig): QueueSettings[] {
  const minutes = (ms: number) => Math.ceil(ms / 60_000);
  return [
    {
      name: DELIVERY_QUEUE,
      // An attempt lasts at most the timeout; beyond it (and a margin to record the result) its process is taken for dead.
      expireInSeconds: Math.ceil(config.timeoutMs / 1000) + 10,
      retryLimit: 20,
      retryDelaySeconds: 1,
      retentionMinutes: minutes(config.retryPeriodMs) + 24 * 60,
    },
    { name: REPLAY_QUEUE, expireInSeconds: 60, retryLimit: 20, retryDelaySeconds: 1, retentionMinutes: 7 * 24 * 60 },
  ];
}
