/**
 * The dispatcher's cache of rest-hook Subscriptions (every one not `off`, with its criteria
 * parsed once), refreshed when any Subscription is written: each round first asks for one
 * number that every write changes (`readWebhookFingerprint`), and only when it moved reloads the
 * Subscriptions whose change sequence differs from the one cached. Client writes, deletes and the
 * server's own status changes all move it, from any process.
 */
import type { Queryable } from '../store/database.ts';
import { readWebhookChangeSeqs, readWebhookFingerprint, readWebhookSubscriptions } from '../store/webhook-repository.ts';
import { isDeliverable, readWebhookSubscription, type SubscriptionReading, type WebhookSubscription } from './webhook-subscription.ts';

/** The rest-hook Subscriptions that are not off, kept fresh. */
export class SubscriptionCache {
  private fingerprint: string | undefined;
  private seqs = new Map<string, string>();
  private readonly subscriptions = new Map<string, WebhookSubscription>();

  constructor(private readonly reading: SubscriptionReading, private readonly onError: (err: unknown) => void) {}

  /** Reloads what changed since the last look (one cheap query when nothing did); true when something had. */
  async refresh(q: Queryable): Promise<boolean> {
    const fingerprint = await readWebhookFingerprint(q);
    if (fingerprint === this.fingerprint) return false;
    const seqs = await readWebhookChangeSeqs(q);
    const changed = [...seqs].filter(([id, seq]) => this.seqs.get(id) !== seq).map(([id]) => id);
    const rows = await readWebhookSubscriptions(q, changed);
    for (const id of changed) {
      const row = rows.get(id);
      let subscription: WebhookSubscription | undefined;
      try {
        subscription = row && readWebhookSubscription(row, this.reading);
      } catch (err) {
        this.onError(new Error(`Subscription/${id} cannot be delivered: ${(err as Error).message}`));
      }
      if (subscription && subscription.status !== 'off') this.subscriptions.set(id, subscription);
      else this.subscriptions.delete(id);
    }
    for (const id of this.subscriptions.keys()) if (!seqs.has(id)) this.subscriptions.delete(id);
    this.seqs = seqs;
    this.fingerprint = fingerprint;
    return true;
  }

  /** Every cached Subscription. */
  all(): WebhookSubscription[] {
    return [...this.subscriptions.values()];
  }

  /** Marks a cached Subscription's new status (the dispatcher's own change, before the next refresh sees it). */
  setStatus(id: string, status: WebhookSubscription['status']): void {
    const subscription = this.subscriptions.get(id);
    if (subscription) subscription.status = status;
  }

  /** The Subscriptions that deliver now (not off, not past their end), by the resource type their criteria follow. */
  deliverableByType(now = Date.now()): Map<string, WebhookSubscription[]> {
    const typed = new Map<string, WebhookSubscription[]>();
    for (const subscription of this.subscriptions.values()) {
      if (!isDeliverable(subscription, now)) continue;
      const list = typed.get(subscription.criteria.resourceType) ?? [];
      list.push(subscription);
      typed.set(subscription.criteria.resourceType, list);
    }
    return typed;
  }
}
