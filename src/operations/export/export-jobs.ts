/**
 * The export jobs of the job queue (src/store/job-queue.ts): one job per slice of an export's
 * work. A slice writes chunks for at most a few seconds, each chunk with its checkpoint in one
 * transaction, then completes its job and enqueues the next slice in one transaction; a slice
 * whose process died expires and is retried from the last checkpoint.
 */
import type { ExportConfig } from '../../config.ts';
import type { QueueSettings } from '../../store/job-queue.ts';

/** The queue of export slices. */
export const EXPORT_QUEUE = 'bulk-export';

/** One slice of an export. */
export interface ExportSliceJob {
  exportId: string;
}

/** How long one slice works before it hands over to the next (ms). */
export const SLICE_MS = 2_000;

/** The queue's settings. */
export function exportQueues(config: ExportConfig): QueueSettings[] {
  return [{
    name: EXPORT_QUEUE,
    // A slice works SLICE_MS plus its last chunk: past this its process is taken for dead and the
    // slice is retried from the checkpoint (a slice that was only slow keeps its export: steps are
    // claimed, export_job.step, so the retry finds its step taken and stops; no chunk is written twice).
    expireInSeconds: Math.ceil(SLICE_MS / 1000) + 8,
    retryLimit: 1_000,
    retryDelaySeconds: 1,
    retentionMinutes: Math.ceil(config.retentionMs / 60_000),
  }];
}
