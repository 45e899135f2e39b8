/**
 * Bulk Data export for one server process: the queue settings, the worker that runs export
 * slices and the retention sweep, as the workers `startServer` starts after the job queue (the
 * product's one pg-boss, owned by the webhooks' services) and stops in reverse.
 */
import type { Config } from '../../config.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { Database } from '../../store/database.ts';
import type { JobQueue } from '../../store/job-queue.ts';
import type { Worker } from '../../store/worker.ts';
import type { JobMetrics } from '../../telemetry/metrics/index.ts';
import { exportQueues } from './export-jobs.ts';
import { ExportRetention } from './export-retention.ts';
import { ExportWorker } from './export-worker.ts';

/** What exports are built over. */
export interface ExportServiceDeps {
  db: Database;
  model: FhirModel;
  /** The process's job queue (started before these workers). */
  queue: JobQueue;
  config: Config;
  onError: (err: unknown) => void;
  /** Counts exports accepted, completed and failed (metrics on). */
  metrics?: JobMetrics;
}

/** Exports of one process. */
export interface ExportServices {
  queue: JobQueue;
  config: Config;
  worker: ExportWorker;
  retention: ExportRetention;
  /** In start order. */
  workers: Worker[];
  /** Tells this process's worker that a slice was enqueued. */
  wake(): void;
  /** Counts exports accepted, completed and failed (metrics on). */
  metrics?: JobMetrics;
}

/** Applies the export queue's settings once the queue has started. */
class ExportQueueSetup implements Worker {
  readonly name = 'bulk-export-queue';
  constructor(private readonly db: Database, private readonly queue: JobQueue, private readonly config: Config) {}
  async start(): Promise<void> {
    await this.db.transaction((tx) => this.queue.ensureQueues(tx, exportQueues(this.config.export)));
  }
  async stop(): Promise<void> {}
}

/** Builds (without starting) the export parts of a process. */
export function createExportServices(deps: ExportServiceDeps): ExportServices {
  const { db, model, queue, config, onError } = deps;
  const worker = new ExportWorker({
    db, model, queue, config: config.export, searchLimits: config.limits.search, fhirBaseUrl: `${config.publicUrl}/fhir`,
    pollMs: config.changes.pollMs, onError, metrics: deps.metrics,
  });
  const sweepMs = Math.min(60_000, Math.max(1_000, Math.floor(config.export.retentionMs / 4)));
  const retention = new ExportRetention(db, sweepMs, onError);
  return {
    queue, config, worker, retention,
    workers: [new ExportQueueSetup(db, queue, config), worker, retention],
    wake: () => worker.wake(),
    metrics: deps.metrics,
  };
}
