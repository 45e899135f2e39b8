/**
 * Recording one delivery attempt, in one transaction (so a crash loses no record and never
 * records an attempt twice): its AuditEvent — the delivery log, `entity` the Subscription
 * (DECISIONS.md §11: the audit code, no table of its own) — the Subscription's count of
 * consecutive failures and, when it crosses a line, its status (`error`, back to `active`, `off`),
 * and the job: completed, or completed and enqueued again for the next attempt (retry-policy.ts).
 */
import type { WebhookConfig } from '../config.ts';
import type { AuditLog } from '../service/audit/audit-log.ts';
import type { AuditRecord } from '../service/audit/audit-event.ts';
import { changeSubscriptionStatus } from '../service/subscription/subscription-status.ts';
import type { WriteRules } from '../service/write-ops.ts';
import type { Queryable } from '../store/database.ts';
import type { JobQueue, QueuedJob } from '../store/job-queue.ts';
import { recordWebhookAttempt } from '../store/webhook-repository.ts';
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

/** The facts of one attempt. */
export interface Attempt {
  job: QueuedJob<DeliveryJob>;
  subscription: WebhookSubscription;
  /** The author client's name, for the AuditEvent's agent. */
  authorName: string;
  result: WebhookResult;
  /** When the attempt started (epoch ms). */
  startedAt: number;
}

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/** The AuditEvent facts of an attempt (or of a delivery not attempted, `refusal`). */
function attemptRecord(attempt: Omit<Attempt, 'result'> & { result?: WebhookResult }, description: string, status: number): AuditRecord {
  const { job: { data }, subscription, result } = attempt;
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
    action: 'E',
    interaction: 'webhook',
    clientId: subscription.author.clientId,
    clientName: attempt.authorName,
    status,
    description,
    entities: [`Subscription/${subscription.id}`, `${data.resourceType}/${data.id}`],
    entityDetail: detail,
    recorded: new Date(),
  };
}

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

/** Records an attempt and settles its job, in `tx`. */
export async function recordAttempt(tx: Queryable, deps: RecordDeps, attempt: Attempt): Promise<void> {
  const { job, subscription, result } = attempt;
  const data = job.data;
  const delivered = isDelivered(result);
  const failures = await recordWebhookAttempt(tx, subscription.id, delivered);
  await deps.queue.complete(tx, DELIVERY_QUEUE, [job.id]);
  // The audit trail's status: the endpoint's when it answered 2xx or an error, else none (0).
  const status = result.statusCode !== undefined && (delivered || result.statusCode >= 400) ? result.statusCode : 0;
  if (delivered) {
    await deps.auditLog.writeInTransaction(tx, attemptRecord(attempt, `delivered: ${resultText(result)} (attempt ${data.attempt})`, status));
    if (subscription.status === 'error') {
      await changeSubscriptionStatus(tx, deps.writeRules, deps.fhirBaseUrl, subscription.id, { from: ['error'], to: 'active' });
    }
    return;
  }
  const firstAttemptAt = data.firstAttemptAt ? Date.parse(data.firstAttemptAt) : attempt.startedAt;
  const delay = retryDelayMs(data.attempt, deps.config.retryMaxDelayMs);
  const failed = `not delivered: ${resultText(result)} (attempt ${data.attempt})`;
  if (isGivenUp(firstAttemptAt, Date.now() + delay, deps.config.retryPeriodMs)) {
    const period = seconds(deps.config.retryPeriodMs);
    await deps.auditLog.writeInTransaction(tx, attemptRecord(attempt, `${failed}; given up after ${period} of retries`, status));
    await changeSubscriptionStatus(tx, deps.writeRules, deps.fhirBaseUrl, subscription.id, {
      from: ['requested', 'active', 'error'], to: 'off',
      error: `Delivery of event ${eventIdOf(data)} failed for ${period} (WEBHOOK_RETRY_PERIOD); deliveries stopped. Last attempt: ${resultText(result)}`,
    });
    return;
  }
  await deps.auditLog.writeInTransaction(tx, attemptRecord(attempt, `${failed}; next attempt in ${seconds(delay)}`, status));
  await deps.queue.enqueue(tx, DELIVERY_QUEUE, [{
    data: { ...data, attempt: data.attempt + 1, firstAttemptAt: new Date(firstAttemptAt).toISOString() },
    startAfterSeconds: delay / 1000,
  }]);
  if (failures >= ERROR_AFTER && subscription.status !== 'error') {
    await changeSubscriptionStatus(tx, deps.writeRules, deps.fhirBaseUrl, subscription.id, {
      from: ['requested', 'active'], to: 'error',
      error: `${failures} consecutive deliveries failed; the last: ${resultText(result)}`,
    });
  }
}

/**
 * Records a delivery that is not attempted because the Subscription's author may not read the
 * resource now, and completes its job (it is not retried).
 */
export async function recordRefusal(tx: Queryable, deps: RecordDeps, attempt: Omit<Attempt, 'result'>, reason: string): Promise<void> {
  await deps.queue.complete(tx, DELIVERY_QUEUE, [attempt.job.id]);
  await deps.auditLog.writeInTransaction(tx, attemptRecord(attempt, `not delivered: ${reason}`, 403));
}
