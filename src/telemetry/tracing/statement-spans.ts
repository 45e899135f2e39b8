/**
 * The span of one SQL statement: `db.system.name` and the statement's text, which is parameterised
 * (values travel apart, as bind parameters) so it holds no value a client sent (DECISIONS.md:
 * statement text, not parameter values). The span name is the statement's first keyword.
 * https://opentelemetry.io/docs/specs/semconv/database/database-spans/
 */
import { activeTracing, inSpan } from './active-tracing.ts';

/** The first keyword of a statement (`SELECT`, `WITH`, `INSERT`...), for the span name. */
function operationOf(sql: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(sql);
  return match ? match[1].toUpperCase() : 'SQL';
}

/**
 * Runs `work` (sending `sql`) in a client span, when it serves something traced (a request, a
 * job): the pollers' and flushes' statements outside any span would each start a trace of one
 * span. Call only when `tracingOn`.
 */
export function traceStatement<T>(sql: string, work: () => Promise<T>): Promise<T> {
  if (activeTracing().storage.getStore() === undefined) return work();
  const operation = operationOf(sql);
  return inSpan({
    name: `${operation} postgresql`,
    kind: 'client',
    attributes: { 'db.system': 'postgresql', 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.text': sql },
  }, work);
}
