/**
 * Long synchronous work split into slices, between which the event loop serves everyone else:
 * parsing, checking, validating and storing the entries of a 32 MiB Bundle took the loop for a
 * second in one go (review 2, #3). A loop over entries asks {@link TimeSlice.due} after each one
 * and, when the slice is used up, awaits {@link TimeSlice.pause}, which resumes after pending I/O
 * callbacks (`setImmediate`), so other clients' requests run in between.
 * https://nodejs.org/en/learn/asynchronous-work/dont-block-the-event-loop#partitioning
 */

/** How long one slice may hold the event loop, in ms. */
export const SLICE_MS = 20;

/** A budget of event-loop time for one piece of work; see the module comment. */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** True when the current slice is used up and the work should {@link pause}. */
  due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Lets the event loop run everything else that is ready, then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }

  /** Pauses when the slice is used up; otherwise resolves at once. */
  async yieldIfDue(): Promise<void> {
    if (this.due()) await this.pause();
  }
}
