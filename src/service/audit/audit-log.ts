/**
 * Where AuditEvents go (DECISIONS.md §7): a write's event is stored inside the write's own
 * transaction, so it exists exactly when the write does; every other event (reads, refusals,
 * token issues) is buffered and stored in one batch every 250 ms (well within the second the
 * decision allows) and at shutdown.
 * AuditEvents are never published to the change feed.
 */
import type { Database, Queryable } from '../../store/database.ts';
import { writeVersions, type VersionToWrite } from '../../store/resource-repository.ts';
import { stringifyFhirJson } from '../../fhir/fhir-json.ts';
import { extractIndexRows } from '../../search/extract-index-rows.ts';
import { buildStoredResource } from '../resource-content.ts';
import { buildAuditEvent, newAuditId, type AuditRecord } from './audit-event.ts';

const FLUSH_MS = 250;
const MAX_BUFFER = 50_000;
/** Events prepared per slice, with a yield to the event loop between slices, so a busy second's
 * events never stall request handling in one long synchronous burst. */
const SLICE = 250;

function toVersion(record: AuditRecord): VersionToWrite {
  const id = newAuditId();
  const stored = buildStoredResource(buildAuditEvent(record), id, 1, record.recorded);
  return {
    resourceType: 'AuditEvent',
    id,
    versionId: 1,
    lastUpdated: record.recorded,
    deleted: false,
    content: stringifyFhirJson(stored),
    method: 'POST',
    action: 'create',
    indexRows: extractIndexRows(stored),
    emitChange: false,
  };
}

export class AuditLog {
  private buffer: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Events dropped because the database could not take them (reported by `/healthz` later). */
  dropped = 0;

  constructor(private readonly db: Database, private readonly onError: (err: unknown) => void = () => undefined) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Stops the timer and stores what is still buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Queues an event for the next batch. */
  enqueue(record: AuditRecord): void {
    if (this.buffer.length >= MAX_BUFFER) {
      this.dropped++;
      return;
    }
    this.buffer.push(record);
  }

  /** Stores an event inside the caller's transaction. */
  async writeInTransaction(tx: Queryable, record: AuditRecord): Promise<void> {
    await writeVersions(tx, [toVersion(record)]);
  }

  /** Stores every buffered event in one transaction. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.buffer.length === 0) return;
      const batch = this.buffer;
      this.buffer = [];
      try {
        const versions: VersionToWrite[] = [];
        for (let i = 0; i < batch.length; i += SLICE) {
          versions.push(...batch.slice(i, i + SLICE).map(toVersion));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await this.db.transaction((tx) => writeVersions(tx, versions));
      } catch (err) {
        this.onError(err);
        if (this.buffer.length + batch.length <= MAX_BUFFER) this.buffer.unshift(...batch);
        else this.dropped += batch.length;
      }
    });
    return this.flushing;
  }
}
