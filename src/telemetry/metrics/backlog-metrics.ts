/**
 * Work waiting in the database, read when Prometheus scrapes: how long the oldest committed change
 * has waited for its feed position, and per job queue (webhook deliveries and replays, export
 * slices) how many jobs wait and how long the oldest that may start has waited. The readings come
 * from the readiness probes' statements (src/store/readiness-repository.ts); each scrape's reading
 * is bounded by {@link PROBE_TIMEOUT_MS} and reused for {@link FRESH_MS}, so a scrape flood costs
 * the database one round of statements a second.
 */
import { Gauge, type Registry } from 'prom-client';
import { within } from '../readiness.ts';

/** How long one scrape waits for the database's answer; past it the gauges keep their last values. */
const PROBE_TIMEOUT_MS = 1_000;
/** How long one reading is reused. */
const FRESH_MS = 1_000;

/** One job queue's backlog. */
export interface QueueBacklog {
  queue: string;
  /** Jobs created or to be retried, due or not. */
  depth: number;
  /** How long the oldest job that may start now has waited (0: none). */
  oldestAgeMs: number;
}

/** What the gauges read (over the database: `store/readiness-repository.ts`). */
export interface BacklogProbes {
  changeFeedLagMs(): Promise<number>;
  jobQueueBacklog(): Promise<QueueBacklog[]>;
}

interface Reading {
  feedLagMs?: number;
  queues?: QueueBacklog[];
}

/** Backlog gauges; see the module comment. */
export class BacklogMetrics {
  private probes: BacklogProbes | undefined;
  private last: { at: number; value: Reading } | undefined;
  private running: Promise<Reading> | undefined;

  constructor(registry: Registry) {
    const read = () => this.read();
    new Gauge({
      name: 'fhirgraph_change_feed_lag_seconds',
      help: 'How long the oldest committed change has waited for its feed position (0: none waits).',
      registers: [registry],
      async collect() {
        const { feedLagMs } = await read();
        if (feedLagMs !== undefined) this.set(feedLagMs / 1000);
      },
    });
    new Gauge({
      name: 'fhirgraph_job_queue_depth',
      help: 'Jobs waiting in a job queue (created or to be retried), by queue.',
      labelNames: ['queue'], registers: [registry],
      async collect() {
        const { queues } = await read();
        for (const q of queues ?? []) this.set({ queue: q.queue }, q.depth);
      },
    });
    new Gauge({
      name: 'fhirgraph_job_queue_oldest_age_seconds',
      help: 'How long the oldest job of a queue that may start has waited (0: none), by queue.',
      labelNames: ['queue'], registers: [registry],
      async collect() {
        const { queues } = await read();
        for (const q of queues ?? []) this.set({ queue: q.queue }, q.oldestAgeMs / 1000);
      },
    });
  }

  /** Reads the backlog through `probes` at scrape time. */
  watch(probes: BacklogProbes): void {
    this.probes = probes;
  }

  /** One reading shared by the gauges of a scrape (and concurrent scrapes), reused for {@link FRESH_MS}. */
  private read(): Promise<Reading> {
    const { probes } = this;
    if (!probes) return Promise.resolve({});
    if (this.last && Date.now() - this.last.at < FRESH_MS) return Promise.resolve(this.last.value);
    this.running ??= Promise.all([
      within(PROBE_TIMEOUT_MS, probes.changeFeedLagMs()).catch(() => undefined),
      within(PROBE_TIMEOUT_MS, probes.jobQueueBacklog()).catch(() => undefined),
    ]).then(([feedLagMs, queues]) => {
      const value = { feedLagMs, queues };
      this.last = { at: Date.now(), value };
      return value;
    }).finally(() => { this.running = undefined; });
    return this.running;
  }
}
