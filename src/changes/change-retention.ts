/**
 * Retention of the change feed: events recorded more than `CHANGE_RETENTION` ago are pruned,
 * oldest first, but never past the lowest durable cursor (`change_cursor`: a webhook dispatcher
 * that is behind keeps what it still has to deliver). Each round prunes in batches and records
 * how far it went, so resuming from a pruned position is refused with `CursorExpired` rather
 * than skipping events. One process prunes at a time (an advisory lock; the others skip the round).
 */
import { FhirError } from '../fhir/outcomes.ts';
import { pruneChangeEvents } from '../store/change-event-repository.ts';
import type { Database } from '../store/database.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import type { Worker } from '../store/worker.ts';

/** Options of {@link ChangeRetention}. */
export interface ChangeRetentionOptions {
  /** Events older than this are pruned (`CHANGE_RETENTION`, in milliseconds). */
  retentionMs: number;
  /** How often a round runs (default: a minute, or a tenth of the retention if that is shorter). */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/** Events deleted per statement, so a round never holds long locks or builds a huge transaction. */
const BATCH = 10_000;

/** Prunes old change events in the background. */
export class ChangeRetention implements Worker {
  readonly name = 'change-retention';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private failures = 0;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly db: Database, private readonly options: ChangeRetentionOptions) {
    this.onError = options.onError ?? (() => undefined);
  }

  start(): void {
    const interval = this.options.intervalMs ?? Math.max(1_000, Math.min(60_000, Math.floor(this.options.retentionMs / 10)));
    this.timer = runOutsideQueryScope(() => setInterval(() => {
      this.prune().catch((err: unknown) => {
        if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
      });
    }, interval));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Runs one round now (joining the one under way); resolves with how many events it pruned. */
  prune(): Promise<number> {
    this.running ??= runOutsideQueryScope(async () => {
      let total = 0;
      try {
        for (;;) {
          const pruned = await this.db.transaction((tx) => pruneChangeEvents(tx, this.options.retentionMs / 1000, BATCH));
          if (pruned === undefined) break; // another process is pruning
          total += pruned;
          if (pruned < BATCH) break;
        }
        this.failures = 0;
        return total;
      } finally {
        this.running = undefined;
      }
    });
    return this.running;
  }
}
