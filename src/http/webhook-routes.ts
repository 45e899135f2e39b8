/**
 * The webhooks' REST operation as an entry of the app's route table (so it is registered,
 * answered 405 for other methods and listed in the CapabilityStatement on Subscription):
 * `POST /fhir/Subscription/{id}/$replay` with `since` — an event cursor (`X-Fhirgraph-Event-Cursor`)
 * or an instant — in the query string or a `Parameters` body. It answers 202 with an
 * OperationOutcome once the replay is queued (200 when there was nothing to replay); the
 * deliveries follow (src/webhooks/webhook-replay.ts).
 */
import { allOk, badRequest } from '../fhir/outcomes.ts';
import type { FhirRoute, Params, Query } from '../rest/fhir-route.ts';
import { operationCapability } from '../rest/operation-definitions.ts';
import { readResourceBody } from '../rest/request-body.ts';
import { sendOutcome } from '../rest/reply.ts';
import { isJsonObject } from '../service/resource-content.ts';
import type { WebhookServices } from '../webhooks/index.ts';

/** `since` from the query string, else from a `Parameters` body (`valueString`, `valueInstant` or `valueDateTime`). */
function sinceOf(query: Query, body: unknown): string | undefined {
  const fromQuery = query.since;
  if (Array.isArray(fromQuery)) throw badRequest('since may be given once', 'since');
  if (fromQuery !== undefined || body === undefined) return fromQuery;
  if (!isJsonObject(body) || body.resourceType !== 'Parameters') throw badRequest('The $replay body must be a Parameters resource', 'Parameters');
  const list = Array.isArray(body.parameter) ? body.parameter : [];
  const param = list.find((p) => isJsonObject(p) && p.name === 'since') as Record<string, unknown> | undefined;
  const value = param?.valueString ?? param?.valueInstant ?? param?.valueDateTime;
  if (param && typeof value !== 'string') throw badRequest('The since parameter needs valueString (a cursor), valueInstant or valueDateTime', 'Parameters.parameter');
  return value as string | undefined;
}

/** The route-table entries served by `webhooks`. */
export function webhookRoutes(webhooks: WebhookServices): FhirRoute[] {
  return [{
    method: 'POST',
    url: '/fhir/Subscription/:id/$replay',
    capabilities: [operationCapability('replay', 'instance')],
    async handler(request, reply, { context }) {
      const { id } = request.params as Params;
      const ctx = context(request);
      const body = typeof request.body === 'string' && request.body.trim() !== '' ? readResourceBody(request) : undefined;
      const since = sinceOf(request.query as Query, body);
      const result = await webhooks.replay(ctx, id, since);
      return result.queued
        ? sendOutcome(request, reply, 202, allOk(`Replaying the matching changes after ${result.after} through ${result.through}; they are delivered with their original event ids`))
        : sendOutcome(request, reply, 200, allOk(`Nothing to replay: no change after ${result.after} has been dispatched yet`));
    },
  }];
}
