/**
 * Recording delivery attempts, in one transaction per batch (so a crash loses no record and never
 * records an attempt twice): each attempt's AuditEvent — the delivery log, `entity` the
 * Subscription (DECISIONS.md §11: the audit code, no table of its own) — the Subscriptions' counts
 * of consecutive failures and, when one crosses a line, its status (`error`, back to `active`,
 * `off`), and the jobs: completed, or completed with the next attempt enqueued (retry-policy.ts).
 * The attempts that finish together share the transaction (delivery-worker.ts), so a busy
 * Subscription costs a commit per batch, not per event.
 */
import type { WebhookConfig } from '../config.ts';
import type { AuditLog } from '../service/audit/audit-log.ts';
import type { AuditRecord } from '../service/audit/audit-event.ts';
import { changeSubscriptionStatus, type StatusChange } from '../service/subscription/subscription-status.ts';
import type { WriteRules } from '../service/write-ops.ts';
import type { Queryable } from '../store/database.ts';
import type { JobQueue, NewJob, QueuedJob } from '../store/job-queue.ts';
import { lockResources } from '../store/resource-repository.ts';
import { recordWebhookAttempts, type AttemptTally } from '../store/webhook-repository.ts';
import type { WebhookResult } from './post-webhook.ts';
import { ERROR_AFTER, isGivenUp, retryDelayMs } from './retry-policy.ts';
import { DELIVERY_QUEUE, type DeliveryJob } from './webhook-jobs.ts';
import { eventIdOf } from './webhook-request.ts';
import type { WebhookSubscription } from './webhook-subscription.ts';

/** What recording needs. */
export interface RecordDeps {
  queue: JobQueue;
  auditLog: AuditLog;
  writeRules: WriteRules;
  fhirBaseUrl: string;
  config: WebhookConfig;
}

/** A delivery job with the Subscription it is for and its author's name (the AuditEvent's agent). */
export interface Delivery {
  job: QueuedJob<DeliveryJob>;
  subscription: WebhookSubscription;
  authorName: string;
  /** When the attempt started (epoch ms). */
  startedAt: number;
}

/** How a delivery job ended. */
export type Outcome =
  /** Attempted: the endpoint's answer or the failure. */
  | { kind: 'attempt'; delivery: Delivery; result: WebhookResult }
  /** Not attempted: the Subscription's author may not read the resource now (not retried). */
  | { kind: 'refused'; delivery: Delivery; reason: string }
  /** Not attempted: the Subscription is gone, off or past its end (nothing to record). */
  | { kind: 'dropped'; job: QueuedJob<DeliveryJob> };

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/** True for an answer that counts as delivered (2xx; redirects are not followed). */
export function isDelivered(result: WebhookResult): boolean {
  return result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
}

/** What happened, in words (no URL, no body: they may carry secrets or patient data). */
function resultText(result: WebhookResult): string {
  return result.statusCode !== undefined
    ? `the endpoint answered HTTP ${result.statusCode} in ${result.latencyMs} ms`
    : `${result.error ?? 'no answer'} after ${result.latencyMs} ms`;
}

/** The AuditEvent facts of a delivery attempted (`result`) or refused. */
function auditRecord(delivery: Delivery, description: string, status: number, result?: WebhookResult): AuditRecord {
  const { job: { data }, subscription } = delivery;
  const detail: Record<string, string> = {
    eventId: eventIdOf(data),
    action: data.action,
    resource: `${data.resourceType}/${data.id}/_history/${data.versionId}`,
    attempt: String(data.attempt),
  };
  if (result?.statusCode !== undefined) detail.statusCode = String(result.statusCode);
  if (result) detail.latencyMs = String(result.latencyMs);
  if (result?.error) detail.error = result.error;
  return {
    action: 'E', interaction: 'webhook', clientId: subscription.author.clientId, clientName: delivery.authorName,
    status, description, entities: [`Subscription/${subscription.id}`, `${data.resourceType}/${data.id}`], entityDetail: detail, recorded: new Date(),
  };
}

/** Per Subscription, in the order the attempts finished: a success restarts the count of failures. */
function tally(attempts: readonly { delivery: Delivery; result: WebhookResult }[]): AttemptTally[] {
  const tallies = new Map<string, AttemptTally>();
  for (const { delivery, result } of attempts) {
    const id = delivery.subscription.id;
    const t = tallies.get(id) ?? { id, reset: false, failed: 0 };
    if (isDelivered(result)) {
      t.reset = true;
      t.failed = 0;
    } else {
      t.failed += 1;
    }
    tallies.set(id, t);
  }
  return [...tallies.values()];
}

/** Records a batch of outcomes and settles their jobs, in `tx`. */
export async function recordOutcomes(tx: Queryable, deps: RecordDeps, outcomes: readonly Outcome[]): Promise<void> {
  const attempts = outcomes.flatMap((o) => (o.kind === 'attempt' ? [o] : []));
  const subscriptions = new Map(outcomes.flatMap((o) => (o.kind === 'dropped' ? [] : [[o.delivery.subscription.id, o.delivery.subscription] as const])));
  // Every Subscription's lock first (sorted), then their private rows, as every write of one takes them: no deadlock.
  await lockResources(tx, [...subscriptions.keys()].map((id) => ({ resourceType: 'Subscription', id })));
  const failures = await recordWebhookAttempts(tx, tally(attempts));

  const done: string[] = [];
  const audits: AuditRecord[] = [];
  const retries: NewJob<DeliveryJob>[] = [];
  const changes = new Map<string, StatusChange>();
  for (const outcome of outcomes) {
    if (outcome.kind === 'dropped') {
      done.push(outcome.job.id);
    } else if (outcome.kind === 'refused') {
      done.push(outcome.delivery.job.id);
      audits.push(auditRecord(outcome.delivery, `not delivered: ${outcome.reason}`, 403));
    } else if (isDelivered(outcome.result)) {
      done.push(outcome.delivery.job.id);
      audits.push(auditRecord(outcome.delivery, `delivered: ${resultText(outcome.result)} (attempt ${outcome.delivery.job.data.attempt})`, outcome.result.statusCode!, outcome.result));
      if (outcome.delivery.subscription.status === 'error') changes.set(outcome.delivery.subscription.id, { from: ['error'], to: 'active' });
    } else {
      await recordFailure(tx, deps, outcome.delivery, outcome.result, { audits, retries, changes });
    }
  }
  for (const [id, subscription] of subscriptions) {
    const count = failures.get(id) ?? 0;
    if (count >= ERROR_AFTER && subscription.status !== 'error' && changes.get(id)?.to !== 'off') {
      const last = attempts.filter((a) => a.delivery.subscription.id === id).at(-1)!;
      changes.set(id, { from: ['requested', 'active'], to: 'error', error: `${count} consecutive deliveries failed; the last: ${resultText(last.result)}` });
    }
  }
  await deps.queue.complete(tx, DELIVERY_QUEUE, done);
  await deps.queue.enqueue(tx, DELIVERY_QUEUE, retries);
  await deps.auditLog.writeAllInTransaction(tx, audits);
  for (const [id, change] of changes) await changeSubscriptionStatus(tx, deps.writeRules, deps.fhirBaseUrl, id, change);
}

/** A failed attempt: its job completed, and the next attempt enqueued or the delivery given up. */
async function recordFailure(
  tx: Queryable, deps: RecordDeps, delivery: Delivery, result: WebhookResult,
  into: { audits: AuditRecord[]; retries: NewJob<DeliveryJob>[]; changes: Map<string, StatusChange> },
): Promise<void> {
  const { data } = delivery.job;
  // An attempt that outlived its job's expiry: the queue has handed the job out again, so it is not retried from here.
  const owned = (await deps.queue.complete(tx, DELIVERY_QUEUE, [delivery.job.id])) > 0;
  const firstAttemptAt = data.firstAttemptAt ? Date.parse(data.firstAttemptAt) : delivery.startedAt;
  const delay = retryDelayMs(data.attempt, deps.config.retryMaxDelayMs);
  const failed = `not delivered: ${resultText(result)} (attempt ${data.attempt})`;
  // The audit trail's status: the endpoint's when it answered an error, else none (0).
  const status = result.statusCode !== undefined && result.statusCode >= 400 ? result.statusCode : 0;
  if (isGivenUp(firstAttemptAt, Date.now() + delay, deps.config.retryPeriodMs)) {
    const period = seconds(deps.config.retryPeriodMs);
    into.audits.push(auditRecord(delivery, `${failed}; given up after ${period} of retries`, status, result));
    into.changes.set(delivery.subscription.id, {
      from: ['requested', 'active', 'error'], to: 'off',
      error: `Delivery of event ${eventIdOf(data)} failed for ${period} (WEBHOOK_RETRY_PERIOD); deliveries stopped. Last attempt: ${resultText(result)}`,
    });
    return;
  }
  into.audits.push(auditRecord(delivery, `${failed}; next attempt in ${seconds(delay)}`, status, result));
  if (owned) {
    into.retries.push({ data: { ...data, attempt: data.attempt + 1, firstAttemptAt: new Date(firstAttemptAt).toISOString() }, startAfterSeconds: delay / 1000 });
  }
}
