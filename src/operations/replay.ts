/**
 * fhirgraph's own `POST /fhir/Subscription/{id}/$replay` with `since` — an event cursor
 * (`X-Fhirgraph-Event-Cursor`) or an instant — in the query string or a `Parameters` body
 * (`valueString`, `valueInstant` or `valueDateTime`). It answers 202 with an OperationOutcome once
 * the replay is queued (200 when there was nothing to replay); the deliveries follow, with their
 * original event ids (src/webhooks/webhook-replay.ts).
 */
import { allOk } from '../fhir/outcomes.ts';
import { sendOutcome } from '../rest/reply.ts';
import type { WebhookServices } from '../webhooks/index.ts';
import type { Operation } from './operation.ts';

/** `$replay`, served by `webhooks`. */
export function replayOperation(webhooks: WebhookServices): Operation {
  return {
    name: 'replay',
    definition: 'https://fhirgraph.dev/OperationDefinition/Subscription-replay',
    levels: ['instance'],
    resourceTypes: ['Subscription'],
    permissions: ['u'],
    action: 'E',
    methods: ['POST'],
    parameters: [{ name: 'since', type: 'string' }],
    async handle({ request, reply, ctx, id, params }) {
      const result = await webhooks.replay(ctx, id!, params.string('since'));
      return result.queued
        ? sendOutcome(request, reply, 202, allOk(`Replaying the matching changes after ${result.after} through ${result.through}; they are delivered with their original event ids`))
        : sendOutcome(request, reply, 200, allOk(`Nothing to replay: no change after ${result.after} has been dispatched yet`));
    },
  };
}
