/**
 * How many pooled connections one request may hold at once. A GraphQL operation resolves its root
 * fields in parallel, and each search takes a connection of its own: without a bound, one
 * operation of 100 aliased slow searches held every connection of the pool, and every other
 * client's read waited for a connection until it was refused (issue 14). A request waits for one
 * of its own slots, never for another request's, so the others keep the rest of the pool.
 */
export class ConnectionSlots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Waits for a free slot of this request; rejects with `gone()` when `signal` aborts first. */
  take(signal: AbortSignal, gone: () => Error): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(gone());
      };
      signal.addEventListener('abort', abort, { once: true });
      this.waiting.push(wake);
    });
  }

  /** Frees a slot; the next waiter (if any) takes it over. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}
