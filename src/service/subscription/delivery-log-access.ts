/**
 * Who reads a webhook's delivery log (DECISIONS.md §7): admin clients read every AuditEvent;
 * any other client reads the AuditEvents of the delivery attempts of the Subscriptions it created,
 * by searching `AuditEvent?entity=Subscription/{id}` (CONTRACT.md "Change triggers"), provided
 * its token may read Subscriptions. Such a search is narrowed to delivery attempts
 * (`subtype=…|webhook-attempt`, visible in its `self` link) and takes no `_include` or
 * `_revinclude`. https://hl7.org/fhir/R4/auditevent.html
 */
import { forbidden } from '../../fhir/outcomes.ts';
import type { SearchRequest } from '../../search/search-request.ts';
import { unescapeValue } from '../../search/search-values.ts';
import type { Queryable } from '../../store/database.ts';
import { readWebhookAuthors } from '../../store/webhook-repository.ts';
import { WEBHOOK_ATTEMPT_SUBTYPE } from '../audit/audit-event.ts';
import { isAllowed } from '../authorize.ts';
import type { RequestContext } from '../request-context.ts';

/** The search parameter that narrows an AuditEvent search to webhook delivery attempts. */
export const DELIVERY_LOG_FILTER: [string, string] = ['subtype', `${WEBHOOK_ATTEMPT_SUBTYPE.system}|${WEBHOOK_ATTEMPT_SUBTYPE.code}`];

const REFUSED = 'Only admin clients may read AuditEvents; a client reads the delivery log of a Subscription it created with AuditEvent?entity=Subscription/{id}';

/** True when an AuditEvent search by this caller is a delivery-log search (it may not read AuditEvents otherwise). */
export function isDeliveryLogSearch(ctx: RequestContext, resourceType: string | undefined): boolean {
  return resourceType === 'AuditEvent' && !isAllowed(ctx, 'AuditEvent', 's');
}

/** The Subscription id a reference value names (`Subscription/1` or `<base>/Subscription/1`), else undefined. */
function subscriptionId(value: string, fhirBaseUrl: string): string | undefined {
  let reference = unescapeValue(value);
  if (reference.startsWith(`${fhirBaseUrl}/`)) reference = reference.slice(fhirBaseUrl.length + 1);
  const match = /^Subscription\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  return match?.[1];
}

/**
 * Throws 403 unless the search is limited, by an `entity` criterion, to Subscriptions the caller
 * created, and the caller may read Subscriptions.
 */
export async function authorizeDeliveryLog(db: Queryable, ctx: RequestContext, request: SearchRequest): Promise<void> {
  if (!isAllowed(ctx, 'Subscription', 'r')) throw forbidden(REFUSED);
  if (request.include.length > 0 || request.revinclude.length > 0) throw forbidden('A delivery-log search takes no _include or _revinclude');
  for (const criterion of request.criteria) {
    if (criterion.param.code !== 'entity' || criterion.modifier || criterion.chain || criterion.has) continue;
    const ids = criterion.values.map((value) => subscriptionId(value, ctx.fhirBaseUrl));
    if (ids.length === 0 || ids.some((id) => id === undefined)) continue;
    const authors = await readWebhookAuthors(db, ids as string[]);
    if (ids.every((id) => authors.get(id!) === ctx.auth.clientId)) return;
  }
  throw forbidden(REFUSED);
}
