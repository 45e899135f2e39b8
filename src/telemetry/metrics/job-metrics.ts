/**
 * Background work done: webhook delivery attempts by outcome, and Bulk Data exports by event.
 * https://hl7.org/fhir/R4/subscription.html#2.46.7.1 (rest-hook),
 * https://hl7.org/fhir/uv/bulkdata/export.html
 */
import { Counter, type Registry } from 'prom-client';

/**
 * How a webhook delivery job ended: `delivered` (a 2xx answer), `failed` (another answer, a
 * timeout, a refused connection: retried), `refused` (its author may no longer read the resource),
 * `dropped` (the Subscription is gone, off or past its end).
 */
export type WebhookOutcome = 'delivered' | 'failed' | 'refused' | 'dropped';

/** What happened to an export: `accepted` (kicked off), `completed`, `failed` (given up after its retries). */
export type ExportEvent = 'accepted' | 'completed' | 'failed';

/** Counters of background work; see the module comment. */
export class JobMetrics {
  private readonly webhooks: Counter<'outcome'>;
  private readonly exports: Counter<'event'>;

  constructor(registry: Registry) {
    this.webhooks = new Counter({
      name: 'fhirgraph_webhook_attempts_total',
      help: 'Webhook delivery jobs handled by this process, by outcome (delivered, failed, refused, dropped).',
      labelNames: ['outcome'], registers: [registry],
    });
    this.exports = new Counter({
      name: 'fhirgraph_export_jobs_total',
      help: 'Bulk Data exports, by event (accepted by this process, completed or failed by its worker).',
      labelNames: ['event'], registers: [registry],
    });
    for (const outcome of ['delivered', 'failed', 'refused', 'dropped']) this.webhooks.inc({ outcome }, 0);
    for (const event of ['accepted', 'completed', 'failed']) this.exports.inc({ event }, 0);
  }

  webhookAttempt(outcome: WebhookOutcome): void {
    this.webhooks.inc({ outcome });
  }

  exportJob(event: ExportEvent): void {
    this.exports.inc({ event });
  }
}
