/**
 * The metrics of one server instance: a Prometheus registry of its own (never prom-client's global
 * one: tests start several servers in one process), the Node.js process metrics (event-loop lag,
 * GC, heap, RSS under their standard `process_`/`nodejs_` names) and the recorders the layers above
 * write into. Off (`METRICS_PORT=0`) there is no `Metrics` at all: call sites hold `undefined` and
 * skip recording with one check.
 * https://github.com/siimon/prom-client#default-metrics
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricsConfig } from '../../config.ts';
import { BacklogMetrics } from './backlog-metrics.ts';
import { DatabaseMetrics } from './database-metrics.ts';
import { GraphQLMetrics } from './graphql-metrics.ts';
import { HttpMetrics } from './http-metrics.ts';
import { JobMetrics } from './job-metrics.ts';
import { SecurityMetrics } from './security-metrics.ts';

/** Every recorder of one server instance, over one registry. */
export class Metrics {
  readonly registry = new Registry();
  readonly security = new SecurityMetrics(this.registry);
  readonly http = new HttpMetrics(this.registry, this.security);
  readonly graphql = new GraphQLMetrics(this.registry);
  readonly database = new DatabaseMetrics(this.registry);
  readonly backlog = new BacklogMetrics(this.registry);
  readonly jobs = new JobMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** The metrics of a server configured with `config`, or undefined when they are off (port 0). */
export function createMetrics(config: MetricsConfig): Metrics | undefined {
  return config.port === 0 ? undefined : new Metrics();
}
