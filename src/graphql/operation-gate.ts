/**
 * At most `limit` GraphQL operations execute at once (`GRAPHQL_CONCURRENCY`), and at most
 * `perClient` of them for one client (`GRAPHQL_CLIENT_CONCURRENCY`); the rest wait. A nested query
 * holds megabytes of young objects while it runs, and the collector copies whatever is live at
 * each scavenge: with 16 operations interleaved that copying took a third of the CPU. Fewer
 * operations in flight finish each one sooner, so throughput rises (24 → 28–30 req/s on the
 * bench's nested query at a limit of 2–4) and latency falls.
 *
 * A single FIFO let one client's slow operations hold every slot (review #4: four operations of
 * twenty slow searches kept another client's read by id waiting 9.9 s). Here a free slot goes to
 * the waiting client whose last turn is oldest, a client that has had none first, so clients take
 * turns and a client arriving while others wait runs at the next free slot; one client's
 * operations keep their arrival order. A client with nothing running or waiting is forgotten.
 */

interface ClientQueue {
  /** Operations of the client executing now. */
  active: number;
  /** Its waiting operations, in arrival order. */
  waiting: (() => void)[];
  /** When it last got a slot (a counter); a client that never has sorts before every other. */
  turn: number;
}

/** Turns of clients that have not had one yet sort before every granted turn, in arrival order. */
const NEVER = -Number.MAX_SAFE_INTEGER;

/** The gate; see the module comment. */
export class OperationGate {
  private active = 0;
  private turns = 0;
  private arrivals = 0;
  private readonly clients = new Map<string, ClientQueue>();

  constructor(private readonly limit: number, private readonly perClient: number) {}

  /**
   * Runs `work` for `client` when a slot is free, and frees the slot when it settles, or earlier
   * when `work` calls `release` (an operation that goes on waiting for something other than this
   * process's event loop, such as the schema worker, gives its slot back).
   */
  async run<T>(client: string, work: (release: () => void) => Promise<T>): Promise<T> {
    await this.acquire(client);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.release(client);
    };
    try {
      return await work(release);
    } finally {
      release();
    }
  }

  private queueOf(client: string): ClientQueue {
    let queue = this.clients.get(client);
    if (!queue) {
      queue = { active: 0, waiting: [], turn: NEVER + this.arrivals++ };
      this.clients.set(client, queue);
    }
    return queue;
  }

  private acquire(client: string): Promise<void> {
    const queue = this.queueOf(client);
    if (this.active < this.limit && queue.active < this.perClient && queue.waiting.length === 0) {
      this.grant(queue);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => queue.waiting.push(resolve));
  }

  private grant(queue: ClientQueue): void {
    this.active++;
    queue.active++;
    queue.turn = ++this.turns;
  }

  private release(client: string): void {
    const queue = this.clients.get(client)!;
    this.active--;
    queue.active--;
    this.dispatch();
    if (queue.active === 0 && queue.waiting.length === 0) this.clients.delete(client);
  }

  /** Hands free slots to waiting clients, the one whose last turn is oldest first. */
  private dispatch(): void {
    while (this.active < this.limit) {
      let next: ClientQueue | undefined;
      for (const queue of this.clients.values()) {
        if (queue.waiting.length > 0 && queue.active < this.perClient && (!next || queue.turn < next.turn)) next = queue;
      }
      if (!next) return;
      this.grant(next);
      next.waiting.shift()!();
    }
  }
}
