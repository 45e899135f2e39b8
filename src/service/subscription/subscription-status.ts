/**
 * The server's own changes of a Subscription's `status` (and `error`): `requested` → `active`
 * when the webhook dispatcher takes it up, `active` → `error` with `Subscription.error` after
 * repeated failed deliveries, back to `active` when one succeeds, and `off` when a delivery is
 * given up or the Subscription's `end` has passed. They are bookkeeping writes (a new version,
 * `emitChange: false`): never published to the change feed, so a webhook never fires about its own
 * Subscription. Each is guarded by the version it read, so a client's concurrent update wins.
 * https://hl7.org/fhir/R4/subscription.html#status
 */
import { parseFhirJson } from '../../fhir/fhir-json.ts';
import { FhirError } from '../../fhir/outcomes.ts';
import type { Queryable } from '../../store/database.ts';
import { readCurrent } from '../../store/resource-repository.ts';
import { systemContext } from '../request-context.ts';
import { isJsonObject } from '../resource-content.ts';
import { applyWrites, type WriteRules } from '../write-ops.ts';

/** R4 `Subscription.status`. */
export type SubscriptionStatus = 'requested' | 'active' | 'error' | 'off';

/** A status change: from which statuses, to which, and the `error` text to set (absent: removed). */
export interface StatusChange {
  from: readonly SubscriptionStatus[];
  to: SubscriptionStatus;
  error?: string;
}

/**
 * Changes the status of `Subscription/id` in the caller's transaction when it is one of
 * `change.from`; returns true when it did. A deleted Subscription, another status, or a version
 * written meanwhile leaves it as it is.
 */
export async function changeSubscriptionStatus(
  tx: Queryable, rules: WriteRules, fhirBaseUrl: string, id: string, change: StatusChange,
): Promise<boolean> {
  const current = await readCurrent(tx, 'Subscription', id);
  if (!current || current.deleted || current.content === null) return false;
  const resource = parseFhirJson(current.content);
  if (!isJsonObject(resource) || !change.from.includes(resource.status as SubscriptionStatus)) return false;
  const patch: Record<string, unknown>[] = [{ op: 'replace', path: '/status', value: change.to }];
  if (change.error !== undefined) patch.push({ op: resource.error === undefined ? 'add' : 'replace', path: '/error', value: change.error.slice(0, 1000) });
  else if (resource.error !== undefined) patch.push({ op: 'remove', path: '/error' });
  try {
    await applyWrites(tx, [{ kind: 'patch', resourceType: 'Subscription', id, patch, ifMatch: current.versionId, emitChange: false }], systemContext(fhirBaseUrl), rules);
    return true;
  } catch (err) {
    if (err instanceof FhirError && (err.status === 412 || err.status === 422)) return false;
    throw err;
  }
}
