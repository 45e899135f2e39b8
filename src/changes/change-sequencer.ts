/**
 * The sequencer: gives committed `change_event` rows their feed position (src/changes/README.md).
 * Every server process runs one; their stamping rounds take turns under an advisory lock, so a
 * position is handed out once. A process stamps right after its own write transactions commit
 * (`Database.onChangeEventsCommitted`: no `NOTIFY` inside a write transaction, no round trip to
 * wake another process), coalesced: while a round runs, further commits cause one more round,
 * not one each. Each round that stamps something notifies every process's feed reader (one
 * `NOTIFY` per round, from the round's own short transaction). Once a second it also looks for
 * rows nobody stamped (written by the CLI, or by a process that died between commit and round).
 */
import { FhirError } from '../fhir/outcomes.ts';
import { hasUnstampedEvents, stampChangeEvents } from '../store/change-event-repository.ts';
import type { Database } from '../store/database.ts';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import type { Worker } from '../store/worker.ts';

/** The channel that announces newly stamped events; the payload is the new head position. */
export const CHANGES_CHANNEL = 'fhirgraph_changes';
/** Events stamped per round (a bigger backlog takes several rounds, one after the other). */
const ROUND_SIZE = 5_000;

/** Options of {@link ChangeSequencer}. */
export interface ChangeSequencerOptions {
  /** How often to look for rows nobody stamped (`CHANGE_POLL_MS`). */
  pollMs: number;
  /** Called with the new head after a round stamped something (this process's reader, at once). */
  onStamped?: (head: number) => void;
  onError?: (err: unknown) => void;
}

/** Stamps committed change events with feed positions. */
export class ChangeSequencer implements Worker {
  readonly name = 'change-sequencer';
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private failures = 0;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly db: Database, private readonly options: ChangeSequencerOptions) {
    this.onError = options.onError ?? (() => undefined);
  }

  /** Begins stamping after each local commit and polling; stamps what is waiting now. */
  start(): void {
    this.stopped = false;
    this.unsubscribe = this.db.onChangeEventsCommitted(() => this.wake());
    this.timer = runOutsideQueryScope(() => setInterval(() => void this.poll(), this.options.pollMs));
    this.timer.unref();
    this.wake();
  }

  /** Stops, after the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Runs a round now, or one more after the round under way. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = runOutsideQueryScope(() => this.rounds()).finally(() => {
      this.running = undefined;
      // A commit that came after the last round looked, but before this ran.
      if (this.again) this.wake();
    });
  }

  /** Stamps everything committed so far (a round now, and any it calls for), then resolves. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.wake();
    while (this.running) await this.running;
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        const { stamped, head } = await this.db.transaction((tx) => stampChangeEvents(tx, ROUND_SIZE, CHANGES_CHANNEL));
        this.failures = 0;
        if (stamped > 0) this.options.onStamped?.(head);
        if (stamped === ROUND_SIZE) this.again = true;
      } catch (err) {
        // During an outage the poll tries again each second; report the first failure only.
        if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
        this.again = false; // no retry in a tight loop: the poll tries again
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async poll(): Promise<void> {
    if (this.running) return;
    try {
      if (await hasUnstampedEvents(this.db)) this.wake();
    } catch (err) {
      if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
    }
  }
}
