/**
 * The one shape of the server's background loops (the auth state's listener, rate-limit sync,
 * the audit flush, the change feed's sequencer, reader and retention): `startServer` keeps them
 * in one list, starts them in order before it listens and stops them in reverse order after the
 * HTTP server has closed. It lives in `store/` because every one of them is a loop over the
 * database, and the layers above all import the store.
 */

/** A background loop of the server process. */
export interface Worker {
  /** A short name for logs and errors (`audit-flush`, `change-sequencer`). */
  readonly name: string;
  /** Starts the loop; a rejection stops the server from starting. */
  start(): Promise<void> | void;
  /** Stops the loop and finishes (or hands back) the work it holds. */
  stop(): Promise<void>;
}

/** Workers started in order and stopped in reverse order. */
export class WorkerList {
  private readonly started: Worker[] = [];

  constructor(private readonly workers: readonly Worker[]) {}

  /** Starts every worker in order; when one fails, stops the ones already started and rethrows. */
  async start(): Promise<void> {
    for (const worker of this.workers) {
      try {
        await worker.start();
      } catch (err) {
        await this.stop().catch(() => undefined);
        throw err;
      }
      this.started.push(worker);
    }
  }

  /** Stops the started workers in reverse order; every one is stopped even if another fails (the first failure is rethrown). */
  async stop(): Promise<void> {
    let failure: unknown;
    while (this.started.length > 0) {
      const worker = this.started.pop()!;
      try {
        await worker.stop();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
