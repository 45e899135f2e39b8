/**
 * Matching a page of change events against Subscriptions: one statement loads the versions the
 * events wrote and the ones their criteria see (a delete is matched on the version before it),
 * each version is indexed once in memory, and each Subscription following its type is tested on
 * it (REST search semantics; chains and `_has` read current data). Subscriptions whose author may
 * not read the type now are left out (author-rights.ts). The result is one delivery job per
 * (event, matching Subscription). Shared by the dispatcher and `$replay`.
 */
import { indexVersion, matchesCriteria, type ChangeEvent, type ChangeFeed } from '../changes/index.ts';
import type { Queryable } from '../store/database.ts';
import type { AuthorRights } from './author-rights.ts';
import type { DeliveryJob } from './webhook-jobs.ts';
import type { WebhookSubscription } from './webhook-subscription.ts';

/** What matching needs. */
export interface MatchContext {
  feed: ChangeFeed;
  /** Where chains and `_has` read current data. */
  db: Queryable;
  rights: AuthorRights;
  /** `PUBLIC_URL/fhir`, as the store indexed versions with. */
  fhirBaseUrl: string;
}

/** The Subscriptions, by type, whose authors may read that type now. */
async function permitted(byType: ReadonlyMap<string, readonly WebhookSubscription[]>, rights: AuthorRights): Promise<Map<string, WebhookSubscription[]>> {
  const result = new Map<string, WebhookSubscription[]>();
  for (const [type, subscriptions] of byType) {
    const allowed: WebhookSubscription[] = [];
    for (const subscription of subscriptions) {
      if (!(await rights.refusal(subscription.author, type, subscription.criteria.searchedTypes))) allowed.push(subscription);
    }
    if (allowed.length > 0) result.set(type, allowed);
  }
  return result;
}

/** The delivery jobs of `events` for the Subscriptions in `byType` (keyed by the type they follow). */
export async function matchEvents(
  events: readonly ChangeEvent[], byType: ReadonlyMap<string, readonly WebhookSubscription[]>, ctx: MatchContext,
): Promise<DeliveryJob[]> {
  const subscribers = await permitted(byType, ctx.rights);
  const relevant = events.filter((e) => subscribers.has(e.resourceType));
  if (relevant.length === 0) return [];
  const versions = await ctx.feed.loadVersions(relevant);
  const jobs: DeliveryJob[] = [];
  for (const event of relevant) {
    const matched = versions.get(event.position)?.matched;
    const version = matched && indexVersion(matched, ctx.fhirBaseUrl);
    if (!version) continue;
    for (const subscription of subscribers.get(event.resourceType)!) {
      if (!(await matchesCriteria(subscription.criteria, version, ctx.db))) continue;
      jobs.push({
        subscriptionId: subscription.id, position: event.position, resourceType: event.resourceType, id: event.id,
        versionId: event.versionId, action: event.action, attempt: 1,
      });
    }
  }
  return jobs;
}
