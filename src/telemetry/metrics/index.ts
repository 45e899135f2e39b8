/** Prometheus metrics (README "Metrics"; this folder's README.md). */
export { ANONYMOUS_LABEL, BoundedLabels, OTHER_LABEL } from './bounded-labels.ts';
export { CompactHistogram, HistogramSeries } from './compact-histogram.ts';
export { BacklogMetrics, type BacklogProbes, type QueueBacklog } from './backlog-metrics.ts';
export { DatabaseMetrics, statementLabel, type PoolStats, type StatementRecorder } from './database-metrics.ts';
export { GraphQLMetrics, graphqlMetricsPlugin } from './graphql-metrics.ts';
export { HttpMetrics, UNMATCHED_ROUTE } from './http-metrics.ts';
export { JobMetrics, type ExportEvent, type WebhookOutcome } from './job-metrics.ts';
export { createMetrics, Metrics } from './metrics.ts';
export { listenForMetrics, type MetricsListener } from './metrics-listener.ts';
export { SecurityMetrics, type DroppedSource } from './security-metrics.ts';
