/**
 * Query protection, in two steps:
 *
 * 1. As validation starts, the document's caps ({@link documentLimitsRule}: aliases, selections,
 *    nesting, fields merged under one response name; the parser already stopped at
 *    `GRAPHQL_MAX_TOKENS` tokens). Apollo validates a query text once and caches the result, so
 *    this runs once per text.
 * 2. In this plugin, once the operation is known (`didResolveOperation`, before execution): the
 *    bounds on an operation that asks the schema ({@link readSchemaOperation}: `__schema`,
 *    `__type`, `_service`), then the cost with the request's own variables
 *    ({@link measureOperation}), which a validation rule cannot compute: it sees no variables,
 *    and Apollo does not re-validate a cached text. An operation deeper than `GRAPHQL_MAX_DEPTH`
 *    or costlier than `GRAPHQL_MAX_COST` resources is refused with `BAD_USER_INPUT` (HTTP 400);
 *    otherwise its units are charged to the client's rate limit, and an operation the client
 *    cannot afford is refused with `TOO_MANY_REQUESTS` (HTTP 429, `Retry-After`) without running.
 *    A refused operation is not charged.
 *
 * The response reports `extensions.cost = { resources, units }` (an answer of the schema worker
 * carries no extensions).
 * https://spec.graphql.org/October2021/#sec-Validation,
 * https://www.apollographql.com/docs/apollo-server/integrations/plugins-event-reference
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { FhirError } from '../fhir/outcomes.ts';
import type { RequestContext } from '../service/request-context.ts';
import { limitError, type DocumentLimits } from './document-limits.ts';
import { toRequestError } from './graphql-errors.ts';
import { measureOperation, type CostLimits, type OperationCost } from './operation-cost.ts';
import { readSchemaOperation } from './schema-operation.ts';
import type { GraphQLContext } from './request-loaders.ts';

/** The caps on a document and the limits on an operation's depth and cost. */
export type QueryLimits = DocumentLimits & CostLimits;

/** Refuses an operation beyond the depth or cost limit (`BAD_USER_INPUT`). */
export function assertWithinLimits(cost: OperationCost, limits: QueryLimits): void {
  if (cost.depth > limits.maxDepth) throw limitError(`The query is ${cost.depth} levels deep; the limit is ${limits.maxDepth}`);
  if (cost.resources > limits.maxCost) {
    throw limitError(`The query may return about ${cost.resources} resources; the limit is ${limits.maxCost}`);
  }
}

/** Charges the operation's units beyond the one its request paid on arrival. */
async function chargeUnits(ctx: RequestContext, units: number): Promise<void> {
  try {
    await ctx.chargeWork?.(units - 1);
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    // A too-costly refusal names the whole cost already; a throttled one does not (and a 503
    // from the limiter's claim round trip is not about the cost).
    const named = err.status !== 429 || err.outcome.issue[0]?.code === 'too-costly';
    throw toRequestError(err, named ? err.message : `${err.message} (this operation costs ${units} units)`);
  }
}

/** The plugin enforcing the operation's limits (step 2); see the module comment. */
export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      let cost: OperationCost | undefined;
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation) return;
          readSchemaOperation(schema, document, operation);
          cost = measureOperation(schema, document, operation, request.variables, limits);
          if (!cost) return;
          assertWithinLimits(cost, limits);
          await chargeUnits(contextValue.ctx, cost.units);
        },
        async willSendResponse({ response }) {
          if (!cost || response.body.kind !== 'single') return;
          const { resources, units } = cost;
          response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: { resources, units } };
        },
      };
    },
  };
}
