/**
 * Queries executed by graphql-jit (https://github.com/zalando-incubator/graphql-jit): a query
 * document is compiled into a JavaScript function (Apollo keeps the parsed document of a
 * repeated text, so the compiled query is cached per document and operation) that reads stored
 * JSON properties inline and calls only the schema's real resolvers (reads, reverse references,
 * `Reference.resource`). graphql-js's interpreter instead spent a resolve-info object, a path
 * entry and often a promise on each of the ~5,000 fields of a nested answer, which profiles of
 * the bench's nested query showed as most of its CPU time (with the garbage collection and the
 * async-context hooks those promises cost). Resolvers, loaders, authorisation and errors are
 * the same: only the walk over the selection differs.
 *
 * A document is compiled on its second run, and only when it is cheap to compile
 * (`compile-budget.ts`): compilation blocks the event loop, and costs most for fields of an
 * abstract type; one-off and heavy documents run on graphql-js as before.
 *
 * Apollo Server offers no executor option for a static schema; its gateway interface is how a
 * server supplies its own (https://www.apollographql.com/docs/apollo-server/using-federation/api/apollo-gateway#gatewayinterface):
 * it is given here with the served schema, so Apollo's parsing, validation, plugins and error
 * formatting stay as they were. Mutations, and documents that use the FHIR result directives
 * (whose `@slice` preparation makes a new document per request, `result-directives.ts`), keep
 * graphql-js's `execute`: they are not on the hot path, and a compilation per request would cost
 * more than it saves.
 */
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute, getOperationAST, getVariableValues, Kind,
  type DocumentNode, type ExecutionResult, type FragmentDefinitionNode, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { compileWeight } from './compile-budget.ts';
import { hasResultDirectives } from './result-directives.ts';
import { traceGraphQLOperation, tracingOn } from '../telemetry/tracing/index.ts';

type Gateway = ApolloServerOptionsWithGateway<never>['gateway'];
type GatewayLoad = Awaited<ReturnType<Gateway['load']>>;
type GatewayExecutor = NonNullable<GatewayLoad['executor']>;
type SchemaListener = Parameters<Gateway['onSchemaLoadOrUpdate']>[0];

/**
 * The most {@link compileWeight} compiled: two `Reference.resource` fields and a hundred others,
 * ~20 ms of compilation on the loaded 2-core bench machine once the compiler's own code is warm
 * (the bench's nested query weighs ~160). Heavier operations run on graphql-js.
 */
export const MAX_COMPILE_WEIGHT = 400;

/**
 * Compiled queries kept at once (~70 KB each for the nested query), the most recently used: a
 * client sending many distinct documents twice cannot grow memory without bound. An evicted
 * operation counts its runs again.
 */
export const MAX_COMPILED = 200;

/** How an operation of a document runs: counted until its second run, then compiled (or not, when too heavy). */
interface OperationPlan { runs: number; compiled?: CompiledQuery | ExecutionResult; interpreted?: boolean }

/** Plans of one document's operations, by operation name (`''` for the document's only operation). */
const plans = new WeakMap<DocumentNode, Map<string, OperationPlan>>();
/** The plans holding a compiled query, least recently used first. */
const compiledPlans = new Set<OperationPlan>();

function keepCompiled(plan: OperationPlan): void {
  compiledPlans.delete(plan);
  compiledPlans.add(plan);
  if (compiledPlans.size <= MAX_COMPILED) return;
  const oldest = compiledPlans.values().next().value!;
  compiledPlans.delete(oldest);
  oldest.compiled = undefined;
  oldest.runs = 0;
}

/**
 * The compiled query of an operation on its second run (a document sent once, as an attacker's
 * variations are, is never compiled), or undefined while it runs on graphql-js.
 */
function compiledFor(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, operationName: string | undefined): CompiledQuery | ExecutionResult | undefined {
  let byOperation = plans.get(document);
  if (!byOperation) plans.set(document, (byOperation = new Map()));
  const key = operationName ?? '';
  let plan = byOperation.get(key);
  if (!plan) byOperation.set(key, (plan = { runs: 0 }));
  if (plan.interpreted) return undefined;
  if (plan.compiled) {
    keepCompiled(plan);
    return plan.compiled;
  }
  if (++plan.runs < 2) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  if (compileWeight(schema, operation, fragments) > MAX_COMPILE_WEIGHT) {
    plan.interpreted = true;
    return undefined;
  }
  // Stack traces of resolver errors are never sent (`includeStacktraceInErrorResponses: false`).
  plan.compiled = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
  keepCompiled(plan);
  return plan.compiled;
}

/**
 * Runs one operation of a validated document: queries through their compiled function, anything
 * else through graphql-js. Variables are coerced by graphql-js first, so a bad variable is refused
 * with graphql-js's own error (which Apollo answers with HTTP 400 and `BAD_USER_INPUT`).
 */
export async function executeOperation(
  schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, contextValue: unknown, variables: Record<string, unknown> = {},
): Promise<ExecutionResult> {
  const operation = getOperationAST(document, operationName);
  const compiled = operation?.operation === 'query' && !hasResultDirectives(document) ? compiledFor(schema, document, operation, operationName) : undefined;
  if (!compiled) return execute({ schema, document, operationName, contextValue, variableValues: variables });
  if (!isCompiledQuery(compiled)) return compiled;
  if (operation!.variableDefinitions?.length) {
    const coerced = getVariableValues(schema, operation!.variableDefinitions, variables);
    if (coerced.errors) return { errors: coerced.errors };
  }
  return compiled.query(undefined, contextValue, variables);
}

/**
 * The gateway Apollo Server is given in place of its schema: it serves `schema` (loaded once) and
 * executes with {@link executeOperation}.
 */
export function compiledExecutionGateway(schema: GraphQLSchema): Gateway {
  const listeners = new Set<SchemaListener>();
  const executor: GatewayExecutor = async (requestContext) => {
    const run = () => executeOperation(schema, requestContext.document, requestContext.operationName ?? undefined, requestContext.context, requestContext.request.variables);
    // The operation's span records its type and name only, never the document or the variables.
    const result = await (tracingOn ? traceGraphQLOperation(requestContext.operation.operation, requestContext.operation.name?.value, run) : run());
    return result as Awaited<ReturnType<GatewayExecutor>>;
  };
  return {
    onSchemaLoadOrUpdate(listener) {
      listeners.add(listener);
      listener({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => listeners.delete(listener);
    },
    async load() {
      return { executor };
    },
    async stop() {
      listeners.clear();
    },
  };
}
