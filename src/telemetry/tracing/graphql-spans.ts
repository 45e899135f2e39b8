/**
 * The span of one GraphQL operation's execution: its type and name only. Neither the document
 * (which may hold literal values) nor the variables are recorded (DECISIONS.md: operation names,
 * not GraphQL variables), and fields get no spans of their own.
 * https://opentelemetry.io/docs/specs/semconv/graphql/graphql-spans/
 */
import { inSpan } from './active-tracing.ts';

/** Runs an operation's execution in a span `query OperationName`. Call only when `tracingOn`. */
export function traceGraphQLOperation<T>(type: string, name: string | undefined, work: () => Promise<T>): Promise<T> {
  return inSpan({
    name: name ? `${type} ${name}` : type,
    kind: 'internal',
    attributes: name ? { 'graphql.operation.type': type, 'graphql.operation.name': name } : { 'graphql.operation.type': type },
  }, work);
}
