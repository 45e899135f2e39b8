/**
 * GraphQL operations over HTTP, and subscription starts over WebSocket, by type and operation name (bounded: {@link BoundedLabels}) and
 * outcome, with the cost (rate-limit units) and the SQL statements each cost. Recorded by an
 * Apollo Server plugin listed after the plugins that put `extensions.cost` and
 * `extensions.statements` in the answer, so it reads both from there; never the variables or the
 * document (DECISIONS.md: operation names, not GraphQL variables).
 * https://www.apollographql.com/docs/apollo-server/integrations/plugins-event-reference#willsendresponse
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, Histogram, type Registry } from 'prom-client';
import { BoundedLabels } from './bounded-labels.ts';

/** Distinct operation names labelled as themselves; later ones are `(other)`. */
const MAX_OPERATION_NAMES = 200;

/** Buckets of cost units and statement counts (GRAPHQL_MAX_COST defaults to 10,000). */
const COUNT_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10_000];

/** Records GraphQL operations; see the module comment. */
export class GraphQLMetrics {
  private readonly operations: Counter<'type' | 'name' | 'outcome'>;
  private readonly cost: Histogram<'type'>;
  private readonly statements: Histogram<'type'>;
  private readonly names = new BoundedLabels(MAX_OPERATION_NAMES);

  constructor(registry: Registry) {
    this.operations = new Counter({
      name: 'fhirgraph_graphql_operations_total',
      help: 'GraphQL operations over HTTP and subscription starts over WebSocket, by type (query, mutation, subscription, unknown when it did not parse or validate), operation name and outcome (ok, error).',
      labelNames: ['type', 'name', 'outcome'], registers: [registry],
    });
    this.cost = new Histogram({
      name: 'fhirgraph_graphql_operation_cost',
      help: 'Rate-limit units (resources it may read) of GraphQL operations that were costed, by type.',
      labelNames: ['type'], buckets: COUNT_BUCKETS, registers: [registry],
    });
    this.statements = new Histogram({
      name: 'fhirgraph_graphql_operation_statements',
      help: 'SQL statements a GraphQL operation sent, by type.',
      labelNames: ['type'], buckets: COUNT_BUCKETS, registers: [registry],
    });
  }

  /** Records one operation's answer. */
  record(type: string | undefined, name: string | null | undefined, failed: boolean, cost: number | undefined, statements: number | undefined): void {
    const typeLabel = type ?? 'unknown';
    this.operations.inc({ type: typeLabel, name: this.names.labelOf(name), outcome: failed ? 'error' : 'ok' });
    if (cost !== undefined) this.cost.observe({ type: typeLabel }, cost);
    if (statements !== undefined) this.statements.observe({ type: typeLabel }, statements);
  }
}

/** The plugin recording into `metrics`; list it after the cost and statement plugins. */
export function graphqlMetricsPlugin(metrics: GraphQLMetrics): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, operationName }) {
          if (response.body.kind !== 'single') {
            metrics.record(operation?.operation, operationName ?? operation?.name?.value, false, undefined, undefined);
            return;
          }
          const { errors, extensions } = response.body.singleResult;
          const cost = (extensions?.cost as { units?: unknown } | undefined)?.units;
          const statements = extensions?.statements;
          metrics.record(operation?.operation, operationName ?? operation?.name?.value, (errors?.length ?? 0) > 0,
            typeof cost === 'number' ? cost : undefined, typeof statements === 'number' ? statements : undefined);
        },
      };
    },
  };
}
