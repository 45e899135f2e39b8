/**
 * Export retention: every process deletes, now and then, the exports past their expiry
 * (`EXPORT_RETENTION` after kick-off, and again after completion) with their files, a batch at a
 * time. Deleting twice is harmless, so processes need not take turns.
 */
import type { Database } from '../../store/database.ts';
import { deleteExpiredExports } from '../../store/export-repository.ts';
import { runOutsideQueryScope } from '../../store/query-scope.ts';
import type { Worker } from '../../store/worker.ts';

/** Exports deleted per statement. */
const BATCH = 100;

/** Deletes expired exports every `intervalMs`. */
export class ExportRetention implements Worker {
  readonly name = 'bulk-export-retention';
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly db: Database, private readonly intervalMs: number, private readonly onError: (err: unknown) => void) {}

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= runOutsideQueryScope(() => this.sweep()).finally(() => { this.sweeping = undefined; });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Deletes every expired export now. */
  async sweep(): Promise<void> {
    try {
      while ((await deleteExpiredExports(this.db, BATCH)) === BATCH) { /* the next batch */ }
    } catch (err) {
      this.onError(err);
    }
  }
}
