/**
 * Whether, and why, a query scope's work has been given up (its client went away, or its deadline
 * passed), and what runs when it is. Almost no request is ever cancelled, yet an `AbortSignal` per
 * request (an `EventTarget`: made, its listener limit raised, a listener added and removed) cost a
 * read by id about 3% of its CPU. This holds the state and the hooks itself (connection slots
 * and statements hook in directly) and makes a real signal only when something asks for one.
 * https://nodejs.org/api/globals.html#class-abortsignal
 */
import { setMaxListeners } from 'node:events';

export class ScopeCancel {
  private given: { reason: unknown } | undefined;
  private readonly hooks = new Set<() => void>();
  private controller: AbortController | undefined;

  /** True once the work has been given up. */
  get aborted(): boolean {
    return this.given !== undefined;
  }

  /** What it was given up with (`undefined`: the client went away). */
  get reason(): unknown {
    return this.given?.reason;
  }

  /** Gives the work up (once): runs each hook and aborts the signal, if one was made. */
  abort(reason?: unknown): void {
    if (this.given) return;
    this.given = { reason };
    for (const hook of [...this.hooks]) hook();
    this.hooks.clear();
    this.controller?.abort(reason);
  }

  /**
   * Runs `hook` once when the work is given up; add it while the work it stops is under way and
   * {@link offAbort} it after. A hook added once the scope has aborted never runs: check
   * {@link aborted} first.
   */
  onAbort(hook: () => void): void {
    this.hooks.add(hook);
  }

  offAbort(hook: () => void): void {
    this.hooks.delete(hook);
  }

  /** A signal that aborts with the scope (with its reason), made on first use (for code that takes only a signal). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      // Whatever takes it may add a listener per statement (a GraphQL operation may have dozens at once).
      setMaxListeners(0, this.controller.signal);
      if (this.given) this.controller.abort(this.given.reason);
    }
    return this.controller.signal;
  }
}
