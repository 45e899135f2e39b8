/**
 * Background work's spans: one per job a worker runs (an export slice, a webhook replay page) and
 * one per webhook delivery attempt, whose `traceparent` goes to the endpoint with it. Each is the
 * root of a trace of its own, with the job's queue, never its payload.
 * https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
import { activeTracing, inSpan, injectTraceContext, runOutsideSpans, tracingOn } from './active-tracing.ts';

/** Runs one job of `queue` in a consumer span; plain `work()` when tracing is off. */
export function traceJob<T>(queue: string, work: () => Promise<T>): Promise<T> {
  if (!tracingOn) return work();
  return runOutsideSpans(() => inSpan({
    name: `process ${queue}`,
    kind: 'consumer',
    attributes: { 'messaging.system': 'pg-boss', 'messaging.operation.type': 'process', 'messaging.destination.name': queue },
  }, work));
}

/**
 * Runs a webhook delivery attempt in a client span, adding its `traceparent` to `headers` (sent
 * to the endpoint) before `work` posts them; records the endpoint's host and answer status only.
 */
export function traceWebhookDelivery<T extends { statusCode?: number }>(endpoint: URL, headers: Record<string, string>, work: () => Promise<T>): Promise<T> {
  if (!tracingOn) return work();
  return inSpan({
    name: 'POST webhook',
    kind: 'client',
    attributes: { 'http.request.method': 'POST', 'server.address': endpoint.hostname, 'fhirgraph.delivery': 'webhook' },
  }, async (span) => {
    injectTraceContext(headers);
    const result = await work();
    if (typeof result.statusCode === 'number') span.setAttribute('http.response.status_code', result.statusCode);
    if (result.statusCode === undefined || result.statusCode >= 400) {
      span.setAttribute('error.type', result.statusCode === undefined ? 'no answer' : String(result.statusCode));
      span.setStatus({ code: activeTracing().errorCode });
    }
    return result;
  });
}
