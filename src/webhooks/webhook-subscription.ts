/**
 * A Subscription as webhooks use it: its rest-hook channel, parsed criteria, status and `end`,
 * and its author (the client that created it, with the scope it wrote it with), read from the
 * stored resource and its private side (`webhook_subscription`).
 * https://hl7.org/fhir/R4/subscription.html
 */
import { ScopeSet } from '../auth/scopes.ts';
import type { ChangeCriteria } from '../changes/index.ts';
import type { SearchLimits } from '../config.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import type { FhirResource } from '../service/resource-content.ts';
import { isRestHook, readRestHookChannel, type RestHookChannel } from '../service/subscription/rest-hook-channel.ts';
import { parseSubscriptionCriteria } from '../service/subscription/subscription-write.ts';
import type { SubscriptionStatus } from '../service/subscription/subscription-status.ts';
import type { WebhookSubscriptionRow } from '../store/webhook-repository.ts';

/** Who a Subscription's deliveries act for. */
export interface SubscriptionAuthor {
  clientId: string;
  /** The scope of the token it last wrote the Subscription with. */
  scopes: ScopeSet;
}

/** A rest-hook Subscription, ready to match and deliver. */
export interface WebhookSubscription {
  id: string;
  versionId: number;
  changeSeq: string;
  status: SubscriptionStatus;
  /** `Subscription.end`: no delivery after it. */
  end?: Date;
  criteria: ChangeCriteria;
  channel: RestHookChannel;
  author: SubscriptionAuthor;
  /** Consecutive failed attempts (when loaded). */
  failures: number;
  /** The HMAC key of its signatures (when loaded with the secret). */
  secret?: string | null;
}

/** How Subscriptions are read: the settings their criteria and endpoints were checked with. */
export interface SubscriptionReading {
  search: SearchLimits;
  fhirBaseUrl: string;
  allowPrivate: boolean;
}

const STATUSES = new Set<string>(['requested', 'active', 'error', 'off']);

/**
 * The Subscription of a loaded row, or undefined when it is deleted or not a rest-hook one.
 * Throws when its stored criteria or channel no longer pass (a setting changed since it was
 * written); the caller reports that and skips it.
 */
export function readWebhookSubscription(row: WebhookSubscriptionRow, reading: SubscriptionReading): WebhookSubscription | undefined {
  if (row.deleted || row.content === null) return undefined;
  const resource = parseFhirJson(row.content) as FhirResource;
  if (!isRestHook(resource) || !STATUSES.has(String(resource.status))) return undefined;
  const end = typeof resource.end === 'string' ? new Date(resource.end) : undefined;
  return {
    id: row.id,
    versionId: row.versionId,
    changeSeq: row.changeSeq,
    status: resource.status as SubscriptionStatus,
    end: end && !Number.isNaN(end.getTime()) ? end : undefined,
    criteria: parseSubscriptionCriteria(resource, reading.search, reading.fhirBaseUrl),
    // Endpoints are checked again, on their resolved address, at each delivery.
    channel: readRestHookChannel(resource, true),
    author: { clientId: row.authorClientId, scopes: new ScopeSet(row.authorScope) },
    failures: row.failures,
    secret: row.secret,
  };
}

/** True when the Subscription's `end` has passed. */
export function hasEnded(subscription: WebhookSubscription, now = Date.now()): boolean {
  return subscription.end !== undefined && subscription.end.getTime() <= now;
}

/** True when changes are delivered to it now: requested, active or in error, and not past its end. */
export function isDeliverable(subscription: WebhookSubscription, now = Date.now()): boolean {
  return subscription.status !== 'off' && !hasEnded(subscription, now);
}
