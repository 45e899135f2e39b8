/**
 * Where AuditEvents go (DECISIONS.md §7): a write's event is stored inside the write's own
 * transaction, so it exists exactly when the write does; every other event (reads, refusals,
 * token issues) is buffered and stored in one batch every 250 ms (well within the second the
 * decision allows) and at shutdown.
 * AuditEvents are never published to the change feed. They are rows of `audit_event`
 * (src/store/audit-repository.ts), each batch one INSERT, projected as FHIR AuditEvent on read.
 *
 * When the database is unavailable (a 503 from the store) the batch stays buffered and is tried
 * again with backoff (0.5 s doubling to 5 s), so an outage loses no event unless the buffer
 * (50,000 events) overflows. A batch the database refuses for another reason is stored event by
 * event, so one bad event cannot hold back the others; only the refused ones are dropped.
 *
 * Flushes are background work: one started from inside a request runs outside that request's
 * scope (its connection slots, statement timeout and cancellation).
 */
import { FhirError } from '../../fhir/outcomes.ts';
import type { Database, Queryable } from '../../store/database.ts';
import { runOutsideQueryScope } from '../../store/query-scope.ts';
import { insertAuditEvents, type AuditEventInsert } from '../../store/audit-repository.ts';
import { auditFactsOf, auditTypeOf, newAuditId, type AuditRecord } from './audit-event.ts';

const FLUSH_MS = 250;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;
const MAX_BUFFER = 50_000;
/** Events prepared per slice, with a yield to the event loop between slices, so a busy second's
 * events never stall request handling in one long synchronous burst. */
const SLICE = 250;
/** Events per INSERT statement: a batch is one statement, unless an outage let it grow past this. */
const STATEMENT_ROWS = 5_000;

/**
 * The row of a record: its facts, with the type and subtype codes AuditEvent searches use. A
 * write stores it in its own write statement (`applyWrites` with `audit`).
 */
export function auditRowOf(record: AuditRecord): AuditEventInsert {
  const facts = auditFactsOf(record);
  const { type, subtype } = auditTypeOf(record.interaction);
  return {
    id: newAuditId(),
    recorded: facts.recorded,
    action: facts.action,
    interaction: facts.interaction,
    outcome: facts.outcome,
    outcomeDesc: facts.outcomeDesc,
    typeSystem: type.system,
    typeCode: type.code,
    subtypeSystem: subtype.system,
    subtypeCode: subtype.code,
    clientId: facts.clientId,
    claimedClientId: facts.claimedClientId,
    clientName: facts.agentDisplay,
    ip: facts.ip,
    entities: facts.entities,
    entityDetail: facts.entityDetail,
    query: facts.query,
  };
}

/** True for the store's answer to an unreachable database (worth retrying later). */
function isUnavailable(err: unknown): boolean {
  return err instanceof FhirError && err.status === 503;
}

export class AuditLog {
  /** Its name in the server's worker list (`startServer`). */
  readonly name = 'audit-flush';
  private buffer: AuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** While the database is unavailable, the timer's flushes wait until then (epoch ms). */
  private retryAt = 0;
  private failures = 0;
  /** Events dropped: the buffer was full, or the database refused the event itself. */
  dropped = 0;

  constructor(private readonly db: Database, private readonly onError: (err: unknown) => void = () => undefined) {}

  start(): void {
    this.timer = runOutsideQueryScope(() => setInterval(() => {
      if (Date.now() >= this.retryAt) void this.flush();
    }, FLUSH_MS));
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
    await insertAuditEvents(tx, [auditRowOf(record)]);
  }

  /** Stores events inside the caller's transaction, in one batch (webhook attempts recorded together). */
  async writeAllInTransaction(tx: Queryable, records: readonly AuditRecord[]): Promise<void> {
    await insertAuditEvents(tx, records.map(auditRowOf));
  }

  /** Stores every buffered event in one transaction (now, whatever the backoff says). */
  flush(): Promise<void> {
    this.flushing = runOutsideQueryScope(() => this.flushing.then(async () => {
      if (this.buffer.length === 0) return;
      const batch = this.buffer;
      this.buffer = [];
      let rows: AuditEventInsert[] = [];
      try {
        for (let i = 0; i < batch.length; i += SLICE) {
          rows.push(...batch.slice(i, i + SLICE).map(auditRowOf));
          if (i + SLICE < batch.length) await new Promise((resolve) => setImmediate(resolve));
        }
        if (rows.length <= STATEMENT_ROWS) await insertAuditEvents(this.db, rows);
        else {
          await this.db.transaction(async (tx) => {
            for (let i = 0; i < rows.length; i += STATEMENT_ROWS) await insertAuditEvents(tx, rows.slice(i, i + STATEMENT_ROWS));
          });
        }
        this.failures = 0;
        this.retryAt = 0;
      } catch (err) {
        if (isUnavailable(err)) {
          this.keep(batch);
          this.backOff(err);
          return;
        }
        this.onError(err);
        if (rows.length < batch.length) rows = batch.map(auditRowOf);
        await this.storeOneByOne(batch, rows);
      }
    }).catch((err: unknown) => this.onError(err))); // a failed round must not stop the ones after it
    return this.flushing;
  }

  /** Puts a batch that could not be stored back in front of the buffer, as far as it fits. */
  private keep(batch: AuditRecord[]): void {
    const room = Math.max(0, MAX_BUFFER - this.buffer.length);
    this.dropped += Math.max(0, batch.length - room);
    this.buffer.unshift(...batch.slice(0, room));
  }

  private backOff(err: unknown): void {
    // Report the first failure of an outage only; the rest would say the same every few seconds.
    if (this.failures === 0) this.onError(err);
    this.failures += 1;
    this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
  }

  /** Stores a batch the database refused as a whole event by event, dropping only the refused ones. */
  private async storeOneByOne(batch: AuditRecord[], rows: AuditEventInsert[]): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      try {
        await insertAuditEvents(this.db, [rows[i]]);
      } catch (err) {
        if (isUnavailable(err)) {
          this.keep(batch.slice(i));
          this.backOff(err);
          return;
        }
        this.dropped += 1;
        this.onError(err);
      }
    }
  }
}
