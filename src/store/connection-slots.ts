/**
 * How many pooled connections one request, or all the requests of one client, may hold at once.
 * A GraphQL operation resolves its root fields in parallel, and each search takes a connection of
 * its own: without a bound, one operation of 100 aliased slow searches held every connection of
 * the pool, and every other client's read waited for a connection until it was refused (issue 14).
 * A request waits for one of its own slots, never for another request's, so the others keep the
 * rest of the pool; likewise twelve slow searches sent at once by one client wait for that
 * client's slots ({@link ClientConnectionSlots}), not for the pool that everyone else needs.
 */

import { ScopeCancel } from './scope-cancel.ts';

/**
 * Runs `hook` once when `source` aborts; returns what stops it. A request's {@link ScopeCancel}
 * takes the hook without an AbortSignal (a read waiting for one of its client's slots would
 * otherwise make one).
 */
function onAbortOf(source: AbortSignal | ScopeCancel, hook: () => void): () => void {
  if (source instanceof ScopeCancel) {
    source.onAbort(hook);
    return () => source.offAbort(hook);
  }
  source.addEventListener('abort', hook, { once: true });
  return () => source.removeEventListener('abort', hook);
}

/** A bounded wait: after `timeoutMs` the waiter gives up with `refused()`. */
export interface SlotWait {
  timeoutMs: number;
  refused: () => Error;
}

/** A counting semaphore whose waits end when a request's signal aborts (or a bounded wait runs out). */
export class ConnectionSlots {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  /** `onIdle` runs whenever the last slot is given back with nobody waiting. */
  constructor(private readonly limit: number, private readonly onIdle?: () => void) {}

  /** True when no slot is held and nobody waits. */
  get idle(): boolean {
    return this.held === 0 && this.waiting.length === 0;
  }

  /**
   * Takes a free slot at once and says so, or says that none is free (then {@link take} waits for
   * one): a statement that finds a slot free pays no promise and no turn of the microtask queue.
   */
  tryTake(): boolean {
    if (this.held >= this.limit) return false;
    this.held++;
    return true;
  }

  /**
   * Waits for a free slot; rejects with `gone()` when `signal` (or a request's cancel) aborts first, or with
   * `wait.refused()` when `wait.timeoutMs` passes first.
   */
  take(signal: AbortSignal | ScopeCancel, gone: () => Error, wait?: SlotWait): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (err: Error) => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        unlisten();
        clearTimeout(timer);
        reject(err);
        if (this.idle) this.onIdle?.();
      };
      const wake = () => {
        unlisten();
        clearTimeout(timer);
        resolve();
      };
      const unlisten = onAbortOf(signal, () => leave(gone()));
      if (wait) timer = setTimeout(() => leave(wait.refused()), wait.timeoutMs);
      this.waiting.push(wake);
    });
  }

  /** Frees a slot; the next waiter (if any) takes it over. */
  give(): void {
    const next = this.waiting.shift();
    if (next) {
      next();
      return;
    }
    this.held--;
    if (this.held === 0) this.onIdle?.();
  }
}

/**
 * The connection slots of each client with requests in flight (`DB_CLIENT_CONNECTIONS` each). A
 * client's entry lives while one of its requests runs or one of its statements holds or awaits a
 * slot, and is dropped after, so the map holds only active clients.
 */
export class ClientConnectionSlots {
  private readonly clients = new Map<string, { slots: ConnectionSlots; requests: number }>();

  constructor(private readonly limit: number) {}

  /** The slots a request of `clientId` shares with the client's other requests; `leave()` when it ends. */
  enter(clientId: string): { slots: ConnectionSlots; leave(): void } {
    let entry = this.clients.get(clientId);
    if (!entry) {
      const created: { slots: ConnectionSlots; requests: number } = {
        requests: 0,
        slots: new ConnectionSlots(this.limit, () => this.forget(clientId, created)),
      };
      entry = created;
      this.clients.set(clientId, entry);
    }
    const held = entry;
    held.requests++;
    let left = false;
    return {
      slots: held.slots,
      leave: () => {
        if (left) return;
        left = true;
        held.requests--;
        this.forget(clientId, held);
      },
    };
  }

  /** Clients with an entry (for tests). */
  get size(): number {
    return this.clients.size;
  }

  private forget(clientId: string, entry: { slots: ConnectionSlots; requests: number }): void {
    if (entry.requests === 0 && entry.slots.idle && this.clients.get(clientId) === entry) this.clients.delete(clientId);
  }
}
