/**
 * The request of one webhook delivery (CONTRACT.md "Change triggers"): `POST` to
 * `channel.endpoint` with the `channel.header` headers, then the server's own:
 *
 * - `X-Fhirgraph-Event-Id`: `<Subscription id>.<event cursor>`, unique per event and Subscription
 *   and the same on every attempt (and on a `$replay`), so a receiver can drop duplicates;
 * - `X-Fhirgraph-Event-Cursor`: the event's feed cursor (`$replay` `since` takes it);
 * - `X-Fhirgraph-Action` (`create`, `update`, `delete`), `X-Fhirgraph-Resource`
 *   (`Type/id/_history/version`), `X-Fhirgraph-Subscription` (`Subscription/id`), `X-Fhirgraph-Attempt`;
 * - `X-Fhirgraph-Signature: sha256=<hex HMAC-SHA256 of the body>` when the Subscription has a secret.
 *
 * The body is the version the event wrote (`application/fhir+json`) when `channel.payload` is set,
 * and empty for deletes and for Subscriptions without payload.
 * https://hl7.org/fhir/R4/subscription.html#2.46.7.1
 */
import { createHmac } from 'node:crypto';
import { encodeCursor } from '../changes/index.ts';
import type { WebhookRequest } from './post-webhook.ts';
import type { DeliveryJob } from './webhook-jobs.ts';
import type { WebhookSubscription } from './webhook-subscription.ts';

/** The event id of a delivery: stable across attempts and replays. */
export function eventIdOf(job: Pick<DeliveryJob, 'subscriptionId' | 'position'>): string {
  return `${job.subscriptionId}.${encodeCursor(job.position)}`;
}

/** `sha256=<hex>`: the HMAC-SHA256 of `body` keyed with `secret`. */
export function signBody(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Builds the request delivering `job` to `subscription`; `content` is the JSON text of the
 * version the event wrote (absent for a delete or when it is not sent).
 */
export function buildWebhookRequest(subscription: WebhookSubscription, job: DeliveryJob, content: string | undefined): WebhookRequest {
  const body = subscription.channel.sendResource && job.action !== 'delete' && content ? Buffer.from(content) : Buffer.alloc(0);
  const headers: Record<string, string> = {};
  for (const [name, value] of subscription.channel.headers) headers[name.toLowerCase()] = value;
  Object.assign(headers, {
    'user-agent': 'fhirgraph-webhooks',
    'x-fhirgraph-event-id': eventIdOf(job),
    'x-fhirgraph-event-cursor': encodeCursor(job.position),
    'x-fhirgraph-action': job.action,
    'x-fhirgraph-resource': `${job.resourceType}/${job.id}/_history/${job.versionId}`,
    'x-fhirgraph-subscription': `Subscription/${subscription.id}`,
    'x-fhirgraph-attempt': String(job.attempt),
  });
  if (body.length > 0) headers['content-type'] = 'application/fhir+json';
  if (subscription.secret) headers['x-fhirgraph-signature'] = signBody(subscription.secret, body);
  return { headers, body };
}
