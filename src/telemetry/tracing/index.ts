/** OpenTelemetry traces (README "Traces and logs"; this folder's README.md). */
export { tracingOn, runOutsideSpans, injectTraceContext } from './active-tracing.ts';
export { readTracingSettings, type TracingSettings } from './tracing-settings.ts';
export { startTracing, type RunningTracing } from './start-tracing.ts';
export { traceHttpRequests } from './http-request-spans.ts';
export { traceStatement } from './statement-spans.ts';
export { traceGraphQLOperation } from './graphql-spans.ts';
export { traceJob, traceWebhookDelivery } from './job-spans.ts';
