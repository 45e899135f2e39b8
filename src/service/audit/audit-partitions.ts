/**
 * Upkeep of the audit trail's monthly partitions (`audit_event`, migration 0010): at start and
 * then every hour, the partitions of this month and the next two are created ahead (an insert
 * never fails without one: the DEFAULT partition takes it, and its rows move into the month's
 * partition once that is created), and with `AUDIT_RETENTION` set, the months that ended more
 * than that long ago are dropped whole: retention is a `DROP TABLE`, never a row-by-row DELETE.
 * Several processes may run it at once; the SQL functions serialise on an advisory lock.
 */
import { FhirError } from '../../fhir/outcomes.ts';
import { dropAuditPartitionsBefore, ensureAuditPartitions } from '../../store/audit-repository.ts';
import type { Database } from '../../store/database.ts';
import { runOutsideQueryScope } from '../../store/query-scope.ts';
import type { Worker } from '../../store/worker.ts';

/** Months created ahead of the current one. */
const MONTHS_AHEAD = 2;
const INTERVAL_MS = 3_600_000;

export class AuditPartitions implements Worker {
  readonly name = 'audit-partitions';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private failures = 0;

  /** `retentionMs`: `AUDIT_RETENTION` (undefined keeps everything). */
  constructor(private readonly db: Database, private readonly retentionMs: number | undefined, private readonly onError: (err: unknown) => void = () => undefined) {}

  async start(): Promise<void> {
    await this.maintain();
    this.timer = runOutsideQueryScope(() => setInterval(() => {
      this.maintain().catch((err: unknown) => {
        if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
      });
    }, INTERVAL_MS));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /**
   * One round now (joining the one under way): creates the partitions ahead and drops the ones
   * past retention; resolves with how many were dropped.
   */
  maintain(now: Date = new Date()): Promise<number> {
    this.running ??= runOutsideQueryScope(async () => {
      try {
        await this.db.transaction((tx) => ensureAuditPartitions(tx, MONTHS_AHEAD));
        const dropped = this.retentionMs === undefined ? 0
          : await this.db.transaction((tx) => dropAuditPartitionsBefore(tx, new Date(now.getTime() - this.retentionMs!)));
        this.failures = 0;
        return dropped;
      } finally {
        this.running = undefined;
      }
    });
    return this.running;
  }
}
