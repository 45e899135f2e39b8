/**
 * A subscription's start (graphql-ws `onSubscribe`), in the order an HTTP operation meets the
 * same checks, everything before a single event is read:
 *
 * 1. the document: parsed under `GRAPHQL_MAX_TOKENS`, validated with the document caps
 *    (`documentLimitsRule`: aliases, selections, nesting, merged fields), a subscription (queries
 *    and mutations go to `POST /graphql`);
 * 2. the operation with the variables sent: coerced, then its depth and per-event cost against
 *    `GRAPHQL_MAX_DEPTH` and `GRAPHQL_MAX_COST` (`measureOperation`), and the FHIR result
 *    directives checked (`@flatten`, `@slice`, …);
 * 3. the connection's `WS_MAX_SUBSCRIPTIONS`, then one unit of the client's rate limit;
 * 4. the change stream opened by the service: scopes, criteria under the REST search's limits
 *    and authorised like that search, the `since` cursor.
 *
 * A refusal is a graphql-ws `error` message whose errors carry `extensions.code`
 * (`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`, `BAD_USER_INPUT`, `BAD_REQUEST`,
 * `TOO_MANY_SUBSCRIPTIONS`, `TOO_MANY_REQUESTS`, `FORBIDDEN`, `NOT_FOUND`, `CURSOR_EXPIRED`);
 * every start and refusal after the document is understood is audited.
 * https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md#subscribe
 */
import {
  getArgumentValues, getOperationAST, getVariableValues, GraphQLError, Kind, parse, specifiedRules, validate,
  type DocumentNode, type ExecutionArgs, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode, type ValidationRule,
} from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { Security } from '../../access/security.ts';
import type { ChangeAction } from '../../changes/index.ts';
import { outcome } from '../../fhir/outcomes.ts';
import { RequestAudit } from '../../service/audit/request-audit.ts';
import type { ChangeStreams } from '../../service/change-streams/change-streams.ts';
import type { FhirService } from '../../service/fhir-service.ts';
import type { RequestContext } from '../../service/request-context.ts';
import { documentLimitsRule } from '../document-limits.ts';
import { measureOperation } from '../operation-cost.ts';
import { assertWithinLimits, type QueryLimits } from '../query-limits.ts';
import { RequestLoaders, type GraphQLContext } from '../request-loaders.ts';
import { prepareResultDirectives } from '../result-directives.ts';
import type { GraphQLMetrics } from '../../telemetry/metrics/index.ts';
import { traceGraphQLOperation, tracingOn } from '../../telemetry/tracing/index.ts';
import { toEventFailure } from './change-event-execution.ts';
import type { SubscriberConnection } from './subscriber-connection.ts';

/** What a start needs. */
export interface SubscriptionStartDeps {
  schema: GraphQLSchema;
  service: FhirService;
  streams: ChangeStreams;
  security: Security;
  /** The query limits of HTTP operations, with `GRAPHQL_MAX_TOKENS`. */
  limits: QueryLimits & { maxTokens: number };
  /** `WS_MAX_SUBSCRIPTIONS`. */
  maxSubscriptions: number;
  /** `WS_MAX_QUEUED_EVENTS`: resuming streams read pages within it. */
  maxQueuedEvents: number;
  /** Unexpected failures, one line each (never tokens or data). */
  log?: (message: string) => void;
  /** Where starts and refusals are counted (README "Metrics"); absent when metrics are off. */
  metrics?: GraphQLMetrics;
}

/** A parsed and validated document, kept per query text. */
interface Validated {
  document?: DocumentNode;
  errors: readonly GraphQLError[];
}

const CACHE_SIZE = 500;
/** The refusals of a start that count as rate-limit rejections (README "Metrics"). */
const RATE_LIMITED = new Set(['TOO_MANY_REQUESTS', 'TOO_MANY_SUBSCRIPTIONS']);
const CHANGED = /^([A-Z][A-Za-z]+)Changed$/;

/** An error refusing a start, with its `extensions.code` and HTTP-like status. */
function refusal(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, status, outcome: outcome('error', status === 429 ? 'throttled' : 'invalid', message) } });
}

/** `err` with `code` unless it names one already (the document caps' errors say `BAD_USER_INPUT`). */
function withCode(err: GraphQLError, code: string): GraphQLError {
  if (typeof err.extensions.code === 'string') return err;
  return new GraphQLError(err.message, { nodes: err.nodes, source: err.source, positions: err.positions, originalError: err.originalError, extensions: { ...err.extensions, code } });
}

/** The one root field of a subscription operation (validation has made sure there is exactly one). */
function rootFieldOf(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): FieldNode | undefined {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) return selection;
    const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
    const field = inner && rootFieldOf(inner, fragments);
    if (field) return field;
  }
  return undefined;
}

/** Starts subscriptions for the WebSocket server; see the module comment. */
export class SubscriptionStarter {
  private readonly validated = new Map<string, Validated>();
  private readonly rules: readonly ValidationRule[];

  constructor(private readonly deps: SubscriptionStartDeps) {
    this.rules = [...specifiedRules, documentLimitsRule(deps.limits)];
  }

  /** Parses and validates a query text (cached per text: a thousand subscribers send the same few). */
  private validate(query: string): Validated {
    let result = this.validated.get(query);
    if (!result) {
      try {
        const document = parse(query, { maxTokens: this.deps.limits.maxTokens });
        const errors = validate(this.deps.schema, document, this.rules).map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
        result = { document: errors.length ? undefined : document, errors };
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        result = { errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] };
      }
      if (this.validated.size >= CACHE_SIZE) this.validated.delete(this.validated.keys().next().value!);
      this.validated.set(query, result);
    }
    return result;
  }

  /**
   * Runs the checks and opens the change stream; returns the execution arguments of the
   * subscription (its context holds the stream) or the errors refusing it. The start is one
   * GraphQL operation of type `subscription` to metrics and traces, like an operation over HTTP
   * (its events are not: they belong to no request).
   */
  async start(connection: SubscriberConnection, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const named: { name?: string } = { name: typeof payload.operationName === 'string' ? payload.operationName : undefined };
    const run = () => this.checkAndOpen(connection, id, payload, named);
    const result = await (tracingOn ? traceGraphQLOperation('subscription', named.name, run) : run());
    this.deps.metrics?.record('subscription', named.name, Array.isArray(result), undefined, undefined);
    if (Array.isArray(result) && RATE_LIMITED.has(String((result as readonly GraphQLError[])[0]?.extensions.code))) {
      this.deps.security.countRateLimitRejection('graphql-ws subscribe');
    }
    return result;
  }

  /** {@link start}'s work; `named.name` becomes the operation's name once the document names one. */
  private async checkAndOpen(
    connection: SubscriberConnection, id: string, payload: SubscribePayload, named: { name?: string },
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const { schema } = this.deps;
    const { document, errors } = this.validate(typeof payload.query === 'string' ? payload.query : '');
    if (!document) return errors;
    const operation = getOperationAST(document, payload.operationName ?? undefined);
    if (!operation) return [refusal('The document names no operation to run (give operationName)', 'BAD_REQUEST', 400)];
    named.name ??= operation.name?.value;
    if (operation.operation !== 'subscription') {
      return [refusal(`Only subscriptions run over this WebSocket; send ${operation.operation === 'query' ? 'queries' : 'mutations'} to POST /graphql`, 'BAD_REQUEST', 400)];
    }
    const inputs = payload.variables ?? {};
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], inputs, { maxErrors: 25 });
    if (coerced.errors) return coerced.errors.map((e) => withCode(e, 'BAD_USER_INPUT'));
    let prepared: DocumentNode;
    try {
      const cost = measureOperation(schema, document, operation, inputs, this.deps.limits);
      if (cost) assertWithinLimits(cost, this.deps.limits);
      prepared = prepareResultDirectives(schema, document, inputs);
    } catch (err) {
      if (err instanceof GraphQLError) return [err];
      throw err;
    }
    const field = this.rootField(document, operation);
    const args = getArgumentValues(schema.getSubscriptionType()!.getFields()[field.name.value], field, coerced.coerced) as {
      criteria?: string | null; actions?: string[] | null; since?: string | null;
    };
    const resourceType = CHANGED.exec(field.name.value)![1];
    const ctx: RequestContext = { ...connection.ctx, audit: new RequestAudit() };
    let counted = false;
    try {
      // Starts under way count too: a client sending many at once gets no more than the limit.
      if (connection.subscriptions.size + connection.starting >= this.deps.maxSubscriptions) {
        throw refusal(`This connection already has ${this.deps.maxSubscriptions} subscriptions open (WS_MAX_SUBSCRIPTIONS): complete one first, or open another connection`, 'TOO_MANY_SUBSCRIPTIONS', 429);
      }
      connection.starting += 1;
      counted = true;
      await this.deps.security.chargeArrival(ctx);
      const stream = await this.deps.streams.open(ctx, {
        resourceType, criteria: args.criteria, since: args.since, actions: args.actions?.map((a) => a.toLowerCase() as ChangeAction),
      }, { onQueued: () => connection.checkBuffer(), checkAccess: () => connection.checkAccess(), maxQueued: this.deps.maxQueuedEvents });
      if (connection.closed) {
        stream.close();
        throw refusal('The connection closed while the subscription started', 'BAD_REQUEST', 400);
      }
      connection.subscriptions.set(id, { field: field.name.value, ctx, stream });
      connection.auditStart(ctx, field.name.value, 200);
      const contextValue: GraphQLContext = { ctx, service: this.deps.service, loaders: new RequestLoaders(this.deps.service, ctx), changes: stream };
      return { schema, document: prepared, operationName: payload.operationName ?? undefined, variableValues: inputs, contextValue };
    } catch (err) {
      const { error, status } = toEventFailure(err);
      if (status === 500) this.deps.log?.(`subscription start failed: ${(err as Error)?.message ?? String(err)}`);
      connection.auditStart(ctx, field.name.value, status, `${String(error.extensions.code)}: ${error.message}`.slice(0, 300));
      return [error];
    } finally {
      if (counted) connection.starting -= 1;
    }
  }

  private rootField(document: DocumentNode, operation: OperationDefinitionNode): FieldNode {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const field = rootFieldOf(operation.selectionSet, fragments);
    if (!field || !CHANGED.test(field.name.value)) throw new Error(`Invariant failed: a valid subscription selects one TChanged field`);
    return field;
  }
}
