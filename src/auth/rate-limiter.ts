/**
 * Per-client rate limits, per second and per minute, shared by every server process on one
 * database without a database round trip per request (DECISIONS.md §7).
 *
 * Why not `rate-limiter-flexible`: its PostgreSQL store runs one query per consumed point, which
 * §7 rules out, and it would be a new dependency for some 300 lines of code. Here `consume()`
 * (one unit, every request's arrival) is synchronous and only touches memory; a background loop
 * reconciles with PostgreSQL every `syncIntervalMs` (100 ms by default) in one transaction, and
 * makes no query at all while idle.
 *
 * Counting: fixed windows aligned to the clock (each second, each minute). Per key and window
 * each process keeps one row with what it accepted (`count`) and what it may accept before its
 * next sync (`claim`; src/store/rate-limit-repository.ts). Counts alone would not do: the others'
 * counts are up to two sync intervals old, so N processes would overshoot by about
 * N × rate × interval. A process accepts only up to its claim, and each sync raises the claim by
 * a fair share of what nobody has claimed (at most twice the recent demand, so an idle process
 * does not sit on quota). Claims only grow within a window and bound what each process accepts,
 * so together the processes stay at the limit even when they sync at the same moment. The next
 * window is claimed shortly before it starts, and a key new to a process is synced within
 * milliseconds, so that no process spends quota the others cannot see for long. A process that
 * finds no other on a key ignores claims for single units and takes bursts up to the limit.
 *
 * Units: a request may cost several (a Bundle one per entry, a GraphQL operation its cost). Those
 * go through `consumeWork()`: within a claim the table granted, they are counted in memory like
 * single units; beyond it they wait for one claim round trip, which reads the others' rows and
 * raises this process's claim while no other claim on the key can move, so two processes can
 * never both spend the same quota on large requests. One bigger than a window is admitted
 * against the larger window and repays the smaller one as debt charged to the windows that
 * follow, which the same round trip writes for the others to see.
 *
 * The parts: src/auth/rate-limit/rate-ledger.ts counts and decides in memory,
 * src/auth/rate-limit/sync-round.ts reconciles with the table, and this class schedules the
 * rounds and the claims.
 */
import { randomUUID } from 'node:crypto';
import { runOutsideQueryScope } from '../store/query-scope.ts';
import { claimCounters, type CounterDatabase } from '../store/rate-limit-repository.ts';
import type { RateDecision, RateLimit } from './rate-limit/rate-decision.ts';
import { RateLedger } from './rate-limit/rate-ledger.ts';
import { SyncRound } from './rate-limit/sync-round.ts';
import { windowStart } from './rate-limit/windows.ts';

export { rateLimitHeaders, type RateDecision, type RateLimit } from './rate-limit/rate-decision.ts';

/** Options of {@link RateLimiter}; all have defaults. */
export interface RateLimiterOptions {
  /** Pause between two reconciliations with the database (default 100 ms). */
  syncIntervalMs?: number;
  /** The clock, in epoch milliseconds (tests use a fake one). */
  now?: () => number;
  /** Receives sync failures; the limiter keeps counting locally meanwhile (default: ignored). */
  onError?: (err: unknown) => void;
  /** A key used within this long is still read at each sync to learn the others' use (default 2000 ms). */
  activeMs?: number;
}

const DEFAULT_SYNC_INTERVAL_MS = 100;
const DEFAULT_ACTIVE_MS = 2_000;
/** How soon a round follows the first request of a key new to this process. */
const NEW_KEY_SYNC_MS = 10;

/**
 * Fixed-window rate limiting per key (a client id, or `token-ip:…` for the token endpoint),
 * counted in process and reconciled across processes through the `rate_limit_counter` table.
 * `consume()` never waits and never throws because of the database: a failed sync is reported
 * to `onError` and the limiter goes on with what it last knew.
 */
export class RateLimiter {
  /** Its name in the server's worker list (`startServer`). */
  readonly name = 'rate-limit-sync';
  private readonly ledger = new RateLedger(() => this.syncSoon());
  private readonly round: SyncRound;
  private readonly owner = randomUUID();
  private readonly syncIntervalMs: number;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = 0;
  private hurry = false;
  private running = false;
  /** Sync rounds and claims, one after the other. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly db: CounterDatabase, options: RateLimiterOptions = {}) {
    this.syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
    this.round = new SyncRound(db, this.ledger, {
      owner: this.owner, syncIntervalMs: this.syncIntervalMs, activeMs: options.activeMs ?? DEFAULT_ACTIVE_MS, now: this.now,
    });
  }

  /**
   * Counts one unit (a request's arrival) for `key` if the limits allow it, and says so;
   * synchronous, no I/O. A refused unit is not counted.
   */
  consume(key: string, limit: RateLimit): RateDecision {
    return this.ledger.consumeOne(key, limit, this.now());
  }

  /**
   * Counts a request's arrival (one unit) for `key` if the limits allow it, and says so; a refused
   * unit is not counted. Answers at once within this process's claim; beyond it, when the limit
   * may still have room, after one claim round trip to the database (as {@link consumeWork}), so
   * a client under its limit is never refused because the last sync claimed little for it. When
   * the database cannot be asked, decides on what this process knows.
   */
  async consumeArrival(key: string, limit: RateLimit): Promise<RateDecision> {
    return this.consumeArrivalNow(key, limit) ?? this.consumeArrivalAsked(key, limit);
  }

  /**
   * {@link consumeArrival}'s decision when this process can take it alone, at once and without a
   * promise (almost every request), else `undefined`: then {@link consumeArrival} asks the database.
   */
  consumeArrivalNow(key: string, limit: RateLimit): RateDecision | undefined {
    try {
      return this.ledger.consumeLocally(key, limit, 1, 0, this.now());
    } catch {
      return undefined; // decided the long way, as before
    }
  }

  private async consumeArrivalAsked(key: string, limit: RateLimit): Promise<RateDecision> {
    try {
      return await this.consumeWork(key, limit, 1);
    } catch {
      // The database cannot be asked: decide on what this process knows, as between syncs.
      return this.ledger.consumeOne(key, limit, this.now());
    }
  }

  /**
   * Counts `units` of a request's work for `key` if the limits allow them, and says so; a refused
   * request is not counted. `paid` is what the same request was charged before (its arrival), so
   * its whole cost is `paid + units`. Answers at once when this process's claim covers the units
   * (or the windows are known to be exhausted); otherwise after one claim round trip to the
   * database (see the module comment), which rejects when the database fails.
   *
   * Units (one per REST interaction; a Bundle pays per entry, a GraphQL operation by its cost):
   * - A request costing more than the largest window's whole limit (the per-minute one, at most
   *   60 × the per-second one; else the per-second one) can never be admitted: it is refused with
   *   `tooCostly` and no `retryAfterSeconds`.
   * - Otherwise every window whose limit is at least the cost must have room for all of it.
   * - A smaller window (a 1,000-unit transaction against 200 a second) must not be exhausted; it
   *   gives what it has left and the rest is carried as debt into the windows that follow, each
   *   charged up to what is left of it. Those windows are counted like any other (and written for
   *   the other processes), so the client is refused, with a `Retry-After` to the end of the
   *   debt, until it is paid: over time it never gets more than its limits.
   */
  async consumeWork(key: string, limit: RateLimit, units: number, paid = 0): Promise<RateDecision> {
    const known = this.ledger.consumeLocally(key, limit, units, paid, this.now());
    if (known) return known;
    // Claims of every client take turns on one chain, so a claim must not wait for what one
    // client's requests hold (its connection slots, DB_CLIENT_CONNECTIONS): it runs outside the
    // request's scope, as the rounds do, or one client's slow searches would hold up every
    // other client's arrivals behind it.
    const claimed = runOutsideQueryScope(() => this.chain.then(() => this.claim(key, limit, units, paid)));
    this.chain = claimed.then(() => undefined, () => undefined);
    return claimed;
  }

  /** Decides on a request beyond this process's claim with the table's current rows for its key (its turn on the chain). */
  private async claim(key: string, limit: RateLimit, units: number, paid: number): Promise<RateDecision> {
    const now = this.now();
    // A round or claim just before this one may have settled it.
    const known = this.ledger.consumeLocally(key, limit, units, paid, now);
    if (known) return known;
    let outcome: ReturnType<RateLedger['consumeClaimed']> | undefined;
    const from = { second: windowStart(1, now), minute: windowStart(60, now) };
    try {
      await claimCounters(this.db, this.owner, key, from, (table) => {
        outcome = this.ledger.consumeClaimed(key, limit, units, paid, now, table);
        return outcome.writes;
      });
    } catch (err) {
      outcome?.undo();
      throw err;
    }
    // The claim covers this request only: the next round follows at once and claims for the
    // single requests that usually come after it.
    if (outcome!.decision.allowed) this.syncSoon();
    return outcome!.decision;
  }

  /** Begins the periodic sync loop; its timer does not keep the process alive. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the sync loop, then writes the pending counts once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.sync();
  }

  /**
   * One reconciliation round ({@link SyncRound}). Rounds never overlap, and a round never
   * rejects: failures go to `onError`. A round is background work even when a request brings it
   * forward: it runs outside that request's scope (its connection slots, statement timeout and
   * cancellation), as does the timer of the next one.
   */
  sync(): Promise<void> {
    this.chain = runOutsideQueryScope(() => this.chain.then(() => this.syncRound()));
    return this.chain;
  }

  private async syncRound(): Promise<void> {
    try {
      if (await this.round.run()) this.hurry = true;
    } catch (err) {
      try {
        this.onError(err);
      } catch {
        // A failing error handler must not break the sync loop.
      }
    }
  }

  private schedule(delayMs = this.syncIntervalMs): void {
    this.timerDueAt = Date.now() + delayMs;
    this.timer = runOutsideQueryScope(() => setTimeout(() => {
      this.timer = undefined;
      void this.sync().finally(() => {
        if (!this.running) return;
        const hurry = this.hurry;
        this.hurry = false;
        this.schedule(hurry ? NEW_KEY_SYNC_MS : this.syncIntervalMs);
      });
    }, delayMs));
    this.timer.unref();
  }

  /**
   * Brings the next round forward when a key is new here: processes that start serving a client
   * at the same moment know nothing of each other until they sync, so they should sync at once.
   */
  private syncSoon(): void {
    if (!this.running) return;
    if (this.timer === undefined) {
      this.hurry = true; // a round is under way; the next one follows it closely
      return;
    }
    if (this.timerDueAt - Date.now() <= NEW_KEY_SYNC_MS) return;
    clearTimeout(this.timer);
    this.schedule(NEW_KEY_SYNC_MS);
  }
}
