/**
 * What every write of a FHIR `Subscription` does beyond storing it, on every path (REST,
 * GraphQL, Bundle entries, PATCH, conditional writes: `applyWrites` calls it): a client's write
 * has its secret taken out (rest-hook-channel.ts) and, for a rest-hook channel, its `criteria`
 * parsed like the same REST search — under the REST search limits and authorised for the writer
 * as that search would be — and its endpoint checked (unless it is written `off`, which delivers
 * nothing: it is checked when turned back on); then the private side of the
 * Subscription (`webhook_subscription`) records the author, the scope it wrote with and the
 * secret. The server's own status bookkeeping (`emitChange: false`) and deletes only move its
 * change sequence, so every dispatcher notices them. Other channel types are stored as written
 * and never delivered. https://hl7.org/fhir/R4/subscription.html
 */
import type { SearchLimits } from '../../config.ts';
import { parseChangeCriteria, type ChangeCriteria } from '../../changes/index.ts';
import { FhirError, unprocessable } from '../../fhir/outcomes.ts';
import type { Queryable } from '../../store/database.ts';
import { saveWebhookAuthorWrites, touchWebhookSubscriptions, type SecretChange } from '../../store/webhook-repository.ts';
import { authorize } from '../authorize.ts';
import type { RequestContext } from '../request-context.ts';
import type { FhirResource } from '../resource-content.ts';
import { isRestHook, readRestHookChannel, takeSecret } from './rest-hook-channel.ts';

/** How Subscriptions are checked when written. */
export interface SubscriptionRules {
  /** The REST search limits, which criteria are parsed under. */
  search: SearchLimits;
  /** `WEBHOOK_ALLOW_PRIVATE`. */
  allowPrivateEndpoints: boolean;
}

/** The default {@link SubscriptionRules}: strict. */
export function strictSubscriptionRules(search: SearchLimits): SubscriptionRules {
  return { search, allowPrivateEndpoints: false };
}

/** What a write does to a Subscription's private side (applied once its version is written). */
export type SubscriptionPrivateWrite =
  | { id: string; kind: 'author'; secret: SecretChange }
  | { id: string; kind: 'touch'; deleted: boolean };

/**
 * Parses a Subscription's `criteria` as the same REST search (a 422 naming `Subscription.criteria`
 * when it is not one). AuditEvents never enter the change feed, so criteria on them are refused.
 * https://hl7.org/fhir/R4/subscription-definitions.html#Subscription.criteria
 */
export function parseSubscriptionCriteria(resource: FhirResource, search: SearchLimits, fhirBaseUrl: string): ChangeCriteria {
  if (typeof resource.criteria !== 'string') throw unprocessable('A Subscription needs criteria, such as "Observation?code=http://loinc.org|8867-4"', 'Subscription.criteria');
  let criteria: ChangeCriteria;
  try {
    criteria = parseChangeCriteria(resource.criteria, { limits: search, fhirBaseUrl });
  } catch (err) {
    if (!(err instanceof FhirError) || err.status !== 400) throw err;
    const issue = err.outcome.issue.map((i) => ({ ...i, diagnostics: `Subscription.criteria: ${i.diagnostics ?? i.code}`, expression: ['Subscription.criteria'] }));
    throw new FhirError(422, { resourceType: 'OperationOutcome', issue });
  }
  if (criteria.resourceType === 'AuditEvent') throw unprocessable('AuditEvents are not published as changes, so no Subscription can follow them', 'Subscription.criteria');
  return criteria;
}

/**
 * Checks a client's version of a Subscription and takes its secret out. Returns the resource to
 * store and what happens to the secret. Throws 422 for a bad channel or criteria and 403 when
 * the writer may not run the criteria's search.
 */
export function prepareSubscription(resource: FhirResource, ctx: RequestContext, rules: SubscriptionRules): { resource: FhirResource; secret: SecretChange } {
  const taken = takeSecret(resource);
  // An `off` Subscription delivers nothing; it is checked when a client turns it back on.
  if (isRestHook(taken.resource) && taken.resource.status !== 'off') {
    readRestHookChannel(taken.resource, rules.allowPrivateEndpoints);
    const criteria = parseSubscriptionCriteria(taken.resource, rules.search, ctx.fhirBaseUrl);
    authorize(ctx, criteria.resourceType, 's');
    for (const type of criteria.searchedTypes) authorize(ctx, type, 's');
  }
  return taken;
}

/** Applies the private side of the Subscription writes of one transaction, in it (two statements at most). */
export async function saveSubscriptionPrivate(tx: Queryable, writes: readonly SubscriptionPrivateWrite[], ctx: RequestContext): Promise<void> {
  const authored = writes.flatMap((w) => (w.kind === 'author' ? [{ id: w.id, clientId: ctx.auth.clientId, scope: ctx.auth.scopes.scope, secret: w.secret }] : []));
  const touched = writes.flatMap((w) => (w.kind === 'touch' ? [{ id: w.id, deleted: w.deleted }] : []));
  await saveWebhookAuthorWrites(tx, authored);
  await touchWebhookSubscriptions(tx, touched);
}
