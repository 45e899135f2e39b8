/**
 * The loop shape of the background workers that drain a backlog in rounds (the change feed's
 * sequencer, the webhook dispatcher): `wake()` runs a round now, or exactly one more after the
 * round under way however many wake-ups came meanwhile; a round that says there is more runs
 * another at once; a failing round ends the run (the worker's poll wakes it again later) and is
 * reported once per outage rather than once per attempt.
 */
import { FhirError } from '../fhir/outcomes.ts';
import { runOutsideQueryScope } from './query-scope.ts';

/** A round: does one batch of work; resolves true when another should follow at once. */
export type Round = () => Promise<boolean>;

/** Coalesced rounds of one worker. */
export class CoalescedRounds {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private failures = 0;

  constructor(private readonly round: Round, private readonly onError: (err: unknown) => void) {}

  /** True while a round runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Lets wake-ups run rounds. */
  start(): void {
    this.stopped = false;
  }

  /** Refuses further rounds and waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
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
      // A wake-up that came after the last round looked, but before this ran.
      if (this.again) this.wake();
    });
  }

  /** Runs rounds until one says there is no more (or fails), then resolves. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.wake();
    while (this.running) await this.running;
  }

  /**
   * Reports a failure of the worker's own (a poll): the first of an outage, and every one that is
   * not a database outage (a {@link FhirError} 503 is one).
   */
  fail(err: unknown): void {
    if (this.failures++ === 0 || !(err instanceof FhirError)) this.onError(err);
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        const more = await this.round();
        this.failures = 0;
        if (more) this.again = true;
      } catch (err) {
        this.fail(err);
        this.again = false; // no retry in a tight loop: the worker's poll tries again
        return;
      }
    } while (this.again && !this.stopped);
  }
}
