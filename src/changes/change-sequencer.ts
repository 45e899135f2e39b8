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
import { hasUnstampedEvents, stampChangeEvents } from '../store/change-event-repository.ts';
import { CoalescedRounds } from '../store/coalesced-rounds.ts';
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
  private readonly rounds: CoalescedRounds;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly db: Database, private readonly options: ChangeSequencerOptions) {
    this.rounds = new CoalescedRounds(() => this.round(), options.onError ?? (() => undefined));
  }

  /** Begins stamping after each local commit and polling; stamps what is waiting now. */
  start(): void {
    this.rounds.start();
    this.unsubscribe = this.db.onChangeEventsCommitted(() => this.wake());
    this.timer = runOutsideQueryScope(() => setInterval(() => void this.poll(), this.options.pollMs));
    this.timer.unref();
    this.wake();
  }

  /** Stops, after the round under way. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.rounds.stop();
  }

  /** Runs a round now, or one more after the round under way. */
  wake(): void {
    this.rounds.wake();
  }

  /** Stamps everything committed so far (a round now, and any it calls for), then resolves. */
  async flush(): Promise<void> {
    await this.rounds.flush();
  }

  /** One round: stamps up to a round's worth of committed events; true when there may be more. */
  private async round(): Promise<boolean> {
    const { stamped, head } = await this.db.transaction((tx) => stampChangeEvents(tx, ROUND_SIZE, CHANGES_CHANNEL));
    if (stamped > 0) this.options.onStamped?.(head);
    return stamped === ROUND_SIZE;
  }

  private async poll(): Promise<void> {
    if (this.rounds.busy) return;
    try {
      if (await hasUnstampedEvents(this.db)) this.wake();
    } catch (err) {
      this.rounds.fail(err);
    }
  }
}
