/**
 * The export worker, one per process: `EXPORT_CONCURRENCY` loops, each taking one export slice
 * from the job queue at a time (export-jobs.ts), running it (export-runner.ts), then completing
 * its job and, when the export has more to do, enqueuing the next slice in the same transaction.
 * A slice that fails is retried after a growing delay; the third failure in a row marks the
 * export failed. Woken by a kick-off in this process; otherwise it looks for slices (other
 * processes' kick-offs, retries of slices whose process died) every `CHANGE_POLL_MS`.
 */
import { FhirError } from '../../fhir/outcomes.ts';
import type { JobQueue, QueuedJob } from '../../store/job-queue.ts';
import { recordExportFailure } from '../../store/export-repository.ts';
import { runOutsideQueryScope } from '../../store/query-scope.ts';
import type { Worker } from '../../store/worker.ts';
import type { JobMetrics } from '../../telemetry/metrics/index.ts';
import { EXPORT_QUEUE, SLICE_MS, type ExportSliceJob } from './export-jobs.ts';
import { runExportSlice, type ExportRunnerDeps } from './export-runner.ts';
import { traceJob } from '../../telemetry/tracing/index.ts';

/** Failed slices in a row after which an export is marked failed. */
const MAX_FAILURES = 3;

/** What the worker needs. */
export interface ExportWorkerDeps extends ExportRunnerDeps {
  queue: JobQueue;
  pollMs: number;
  onError: (err: unknown) => void;
  /** Counts exports completed and failed (metrics on). */
  metrics?: JobMetrics;
}

/** Works through export slices. */
export class ExportWorker implements Worker {
  readonly name = 'bulk-export';
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly deps: ExportWorkerDeps) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.deps.config.concurrency }, () => runOutsideQueryScope(() => this.run()));
  }

  /** Stops taking slices and waits for those under way (each ends within a slice's time and one chunk). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
  }

  /** Looks for slices now (an export was kicked off in this process). */
  wake(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let job: QueuedJob<ExportSliceJob> | undefined;
      try {
        [job] = await this.deps.queue.fetch<ExportSliceJob>(EXPORT_QUEUE, 1);
      } catch (err) {
        this.deps.onError(err);
      }
      if (job) {
        const next = job;
        await traceJob(EXPORT_QUEUE, () => this.slice(next));
        continue;
      }
      await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.deps.pollMs);
      this.sleepers.add(done);
    });
  }

  /** Runs one slice and hands the export on: the next slice, a retry after a failure, or nothing. */
  private async slice(job: QueuedJob<ExportSliceJob>): Promise<void> {
    const { db, queue } = this.deps;
    const { exportId } = job.data;
    try {
      const result = await runExportSlice(this.deps, exportId, SLICE_MS);
      await db.transaction(async (tx) => {
        await queue.complete(tx, EXPORT_QUEUE, [job.id]);
        if (result === 'more') await queue.enqueue<ExportSliceJob>(tx, EXPORT_QUEUE, [{ data: { exportId } }]);
      });
      if (result === 'more') this.wake();
      else if (result === 'completed') this.deps.metrics?.exportJob('completed');
    } catch (err) {
      // Unavailable database: leave the job active; it expires and is retried from the checkpoint.
      if (err instanceof FhirError && err.status === 503) return this.deps.onError(err);
      this.deps.onError(err);
      try {
        const message = err instanceof Error ? err.message : String(err);
        const failures = await db.transaction(async (tx) => {
          const failed = await recordExportFailure(tx, exportId, `The export failed: ${message.slice(0, 500)}`, MAX_FAILURES);
          await queue.complete(tx, EXPORT_QUEUE, [job.id]);
          if (failed < MAX_FAILURES) await queue.enqueue<ExportSliceJob>(tx, EXPORT_QUEUE, [{ data: { exportId }, startAfterSeconds: 2 ** failed }]);
          return failed;
        });
        if (failures >= MAX_FAILURES) this.deps.metrics?.exportJob('failed');
      } catch (recordErr) {
        this.deps.onError(recordErr);
      }
    }
  }
}
