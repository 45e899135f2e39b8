/**
 * Per-client rate limits, per second and per minute, shared by every server process on one
 * database without a database round trip per request (DECISIONS.md §7).
 *
 * Why not `rate-limiter-flexible`: its PostgreSQL store runs one query per consumed point, which
 * §7 rules out, and it would be a new dependency for some 300 lines of code. Here `consume()` is
 * synchronous and only touches memory; a background loop reconciles with PostgreSQL every
 * `syncIntervalMs` (100 ms by default) in one statement, and makes no query at all while idle.
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
 * finds no other on a key ignores claims and takes bursts up to the limit.
 *
 * Units: a request may cost several (a Bundle one per entry, a GraphQL operation its cost); one
 * bigger than a window is admitted against the larger window and repays the smaller one as debt
 * charged to the windows that follow (see `consume`), which the table carries to the others.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../store/database.ts';
import type { RateDecision, RateLimit } from './rate-limit/rate-decision.ts';
import { largestWindow, shareOf, windowLimits, windowStart, type WindowSize } from './rate-limit/windows.ts';
import { deleteCountersBefore, syncCounters, type CounterState } from '../store/rate-limit-repository.ts';

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

interface WindowCount {
  readonly size: WindowSize;
  /** Epoch ms, a multiple of `size` seconds. */
  readonly start: number;
  /** The limit of the latest request, used when claiming. */
  limit: number;
  /** Requests accepted here in this window. */
  own: number;
  /** Requests seen here in this window, accepted or not. */
  demand: number;
  /** For a window not started yet, the demand of the one before: what it will likely need. */
  expected: number;
  /** The part of `own` the table already holds. */
  reported: number;
  /** The other processes' counts and claims at the last sync. */
  others: number;
  othersClaim: number;
  /** What this process may accept in this window; before its first sync, a share of the limit. */
  claim: number | undefined;
}

interface KeyState {
  /** By `size:start`: the current windows, ended ones not yet written, and claimed next ones. */
  windows: Map<string, WindowCount>;
  lastSeen: number;
  /** Requests seen here (accepted or not) since the last sync took its snapshot. */
  demand: number;
  /** Processes (this one included) that used the key lately, and when that many were last seen. */
  processes: number;
  processesSeenAt: number;
  /** Sync rounds in a row that found no other process on the key. */
  quietRounds: number;
}

interface WindowView {
  window: WindowCount;
  limit: number;
  remaining: number;
  /** What the window must have left to admit the request: all of it, or 1 when the request is bigger than the window. */
  need: number;
  resetSeconds: number;
  /** True when the request cannot be had in this window, from any process; false when a sync may help. */
  exhausted: boolean;
  /** True when admitting the request takes quota beyond this process's claim. */
  beyondClaim: boolean;
}

interface SyncItem {
  key: string;
  state: KeyState;
  window: WindowCount;
  own: number;
  want: number;
}

const DEFAULT_SYNC_INTERVAL_MS = 100;
const DEFAULT_ACTIVE_MS = 2_000;
/** How long a larger count of processes sharing a key is trusted (and the key remembered) after it was last seen. */
const PROCESSES_HOLD_MS = 60_000;
/** How soon a round follows the first request of a key new to this process. */
const NEW_KEY_SYNC_MS = 10;
/** A key's next window is claimed when it starts within this many sync intervals. */
const PRECLAIM_INTERVALS = 3;
/** Windows older than this are deleted from the table... */
const RETENTION_MS = 120_000;
/** ...at most this often, by whichever process is syncing. */
const CLEANUP_EVERY_MS = 10_000;

const UNLIMITED: RateDecision = { allowed: true, limit: 0, remaining: 0, resetSeconds: 0 };

/**
 * Fixed-window rate limiting per key (a client id, or `token:ip:…` for the token endpoint),
 * counted in process and reconciled across processes through the `rate_limit_counter` table.
 * `consume()` never waits and never throws because of the database: a failed sync is reported
 * to `onError` and the limiter goes on with what it last knew.
 */
export class RateLimiter {
  private readonly keys = new Map<string, KeyState>();
  private readonly owner = randomUUID();
  private readonly syncIntervalMs: number;
  private readonly activeMs: number;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = 0;
  private hurry = false;
  private running = false;
  private chain: Promise<void> = Promise.resolve();
  private lastCleanup = -Infinity;

  constructor(private readonly db: Queryable, options: RateLimiterOptions = {}) {
    this.syncIntervalMs = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.activeMs = options.activeMs ?? DEFAULT_ACTIVE_MS;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Counts `units` for `key` if the limits allow them, and says so; synchronous, no I/O. A
   * refused request is not counted. `paid` is what the same request was charged before (its
   * arrival), so a request's whole cost is `paid + units`.
   *
   * Units (one per REST interaction; a Bundle pays per entry, a GraphQL operation by its cost):
   * - A request costing more than the largest window's whole limit (the per-minute one, at most
   *   60 × the per-second one; else the per-second one) can never be admitted: it is refused with
   *   `tooCostly` and no `retryAfterSeconds`.
   * - Otherwise every window whose limit is at least the cost must have room for all of it.
   * - A smaller window (a 1,000-unit transaction against 200 a second) must not be exhausted; it
   *   gives what it has left and the rest is carried as debt into the windows that follow, each
   *   charged up to its limit. Those windows are counted like any other (and synced to the other
   *   processes), so the client is refused, with a `Retry-After` to the end of the debt, until it
   *   is paid: over time it never gets more than its limits.
   */
  consume(key: string, limit: RateLimit, units = 1, paid = 0): RateDecision {
    const now = this.now();
    const limits = windowLimits(limit);
    if (limits.length === 0 || units <= 0) return { ...UNLIMITED };
    const largest = largestWindow(limits);
    if (units + paid > largest.limit) {
      return { allowed: false, limit: largest.limit, remaining: 0, resetSeconds: largest.size, tooCostly: { cost: units + paid, limit: largest.limit, windowSeconds: largest.size } };
    }

    const state = this.stateOf(key, now);
    state.lastSeen = now;
    state.demand += units;
    const views = limits.map(([size, max]) => this.view(state, size, max, now, units));
    const refusing = views.filter((view) => view.remaining < view.need);
    if (refusing.length > 0) {
      // The refusing window that frees up last decides when a retry can succeed.
      const waits = refusing.map((view) => ({ view, seconds: this.retryAfter(state, view, now) }));
      const worst = waits.reduce((a, b) => (b.seconds > a.seconds ? b : a));
      return { allowed: false, limit: worst.view.limit, remaining: 0, resetSeconds: worst.view.resetSeconds, retryAfterSeconds: worst.seconds };
    }
    let beyondClaim = false;
    for (const view of views) {
      const taken = Math.min(units, view.remaining);
      view.window.own += taken;
      view.remaining -= taken;
      beyondClaim ||= view.beyondClaim;
      if (taken < units) this.carryDebt(state, view, units - taken);
    }
    // Quota taken beyond this process's claim, or debt, should reach the others at once.
    if (beyondClaim) this.syncSoon();
    const tightest = views.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { allowed: true, limit: tightest.limit, remaining: tightest.remaining, resetSeconds: tightest.resetSeconds };
  }

  /** Charges `debt` units to the windows of `view`'s size that follow it, each up to its limit. */
  private carryDebt(state: KeyState, view: WindowView, debt: number): void {
    const { size } = view.window;
    for (let start = view.window.start + size * 1000; debt > 0; start += size * 1000) {
      const next = this.windowOf(state, size, start, view.limit);
      const charged = Math.min(debt, Math.max(0, view.limit - next.own));
      next.own += charged;
      debt -= charged;
    }
  }

  /**
   * Seconds until `view`'s window size can have room for the request again: 1 when a sync may
   * yet bring quota from this window, else the start of the first later window not already
   * charged full (by a debt) as far as this process knows.
   */
  private retryAfter(state: KeyState, view: WindowView, now: number): number {
    if (!view.exhausted) return 1;
    const { size } = view.window;
    let start = view.window.start + size * 1000;
    for (;;) {
      const next = state.windows.get(`${size}:${start}`);
      if (!next || view.limit - next.own - next.others >= view.need) break;
      start += size * 1000;
    }
    return Math.max(1, Math.ceil((start - now) / 1000));
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
   * One reconciliation round, one statement: writes this process's new counts and claims, reads
   * the others' for recently used keys, and now and then (a second statement, every 10 s at most)
   * deletes windows that ended over two minutes ago. Makes no query when no key is active.
   * Rounds never overlap, and a round never rejects: failures go to `onError`.
   */
  sync(): Promise<void> {
    this.chain = this.chain.then(() => this.syncRound());
    return this.chain;
  }

  private schedule(delayMs = this.syncIntervalMs): void {
    this.timerDueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync().finally(() => {
        if (!this.running) return;
        const hurry = this.hurry;
        this.hurry = false;
        this.schedule(hurry ? NEW_KEY_SYNC_MS : this.syncIntervalMs);
      });
    }, delayMs);
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

  private stateOf(key: string, now: number): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { windows: new Map(), lastSeen: now, demand: 0, processes: 1, processesSeenAt: now, quietRounds: 0 };
      this.keys.set(key, state);
      this.syncSoon();
    }
    return state;
  }

  /** The key's window of `size` starting at `start`, made afresh (no claim yet) when new. */
  private windowOf(state: KeyState, size: WindowSize, start: number, limit: number): WindowCount {
    const id = `${size}:${start}`;
    let window = state.windows.get(id);
    if (!window) {
      window = { size, start, limit, own: 0, demand: 0, expected: 0, reported: 0, others: 0, othersClaim: 0, claim: undefined };
      state.windows.set(id, window);
    }
    return window;
  }

  private view(state: KeyState, size: WindowSize, limit: number, now: number, units: number): WindowView {
    const window = this.windowOf(state, size, windowStart(size, now), limit);
    window.limit = limit;
    window.demand += units;
    const globalLeft = limit - window.others - window.own;
    // Claims only matter between processes: one that has found itself alone on a key twice in a
    // row takes bursts up to the limit rather than up to what it claimed for its recent demand.
    const processes = this.processesOf(state, now);
    const alone = processes === 1 && state.quietRounds >= 2 && window.others === 0 && window.othersClaim === 0;
    const claim = alone ? limit : window.claim ?? shareOf(limit, processes);
    // What no other process has claimed. Claims follow recent demand and converge on a fair share
    // of the window, so a request of several units bigger than this process's claim (a Bundle
    // after a quiet spell, or bigger than a share) would wait for them, or forever: it may take
    // from here, and is synced at once. Single requests keep to the claim.
    const unclaimed = limit - window.othersClaim - window.own;
    const big = units > 1 && units > claim - window.own;
    const room = big ? Math.max(claim - window.own, unclaimed) : claim - window.own;
    const remaining = Math.max(0, Math.min(globalLeft, room));
    // A window smaller than the request only needs to be not exhausted (the rest becomes debt).
    const need = Math.min(units, limit);
    const resetSeconds = Math.max(1, Math.ceil((window.start + size * 1000 - now) / 1000));
    const exhausted = Math.min(globalLeft, unclaimed) < need;
    return { window, limit, remaining, need: units > limit ? 1 : need, resetSeconds, exhausted, beyondClaim: big && Math.min(units, remaining) > claim - window.own };
  }

  private processesOf(state: KeyState, now: number): number {
    return now - state.processesSeenAt <= PROCESSES_HOLD_MS ? state.processes : 1;
  }

  private async syncRound(): Promise<void> {
    try {
      const now = this.now();
      this.evict(now);
      const batch = this.collect(now);
      if (batch.length === 0) return;
      const states = await syncCounters(this.db, this.owner, batch.map((item) => ({
        key: item.key,
        windowSize: item.window.size,
        windowStart: item.window.start,
        limit: item.window.limit,
        own: item.own,
        want: item.want,
        processesHint: this.processesOf(item.state, now),
      })));
      this.apply(batch, states, this.now());
      if (now - this.lastCleanup >= CLEANUP_EVERY_MS) {
        this.lastCleanup = now;
        await deleteCountersBefore(this.db, now - RETENTION_MS);
      }
    } catch (err) {
      try {
        this.onError(err);
      } catch {
        // A failing error handler must not break the sync loop.
      }
    }
  }

  /**
   * What a round syncs: windows with counts the table lacks, and for keys used lately their
   * current windows and, shortly before it starts, the next one. Claiming the next window ahead
   * of time means no process starts a window on quota the others cannot see.
   */
  private collect(now: number): SyncItem[] {
    const batch: SyncItem[] = [];
    for (const [key, state] of this.keys) {
      const active = now - state.lastSeen < this.activeMs;
      // Room for twice the demand of the last interval, so a busy process never waits a sync for
      // quota; for a window about to start, for what the current one was asked (see addNextWindows).
      const recent = Math.max(1, 2 * state.demand);
      state.demand = 0;
      if (active) this.addNextWindows(state, now);
      for (const window of state.windows.values()) {
        const pending = window.own > window.reported;
        const ended = window.start + window.size * 1000 <= now;
        if (!pending && !(active && !ended)) continue;
        const want = window.start > now ? Math.max(recent, window.expected) : recent;
        batch.push({ key, state, window, own: window.own, want });
      }
    }
    return batch;
  }

  /**
   * Adds the next window of each current one that ends within a few sync intervals, expecting it
   * to be asked as much as the current second was: a one-second window's whole demand, a minute
   * window's demand per second (a minute's worth claimed and left unused would starve the others
   * for a whole minute).
   */
  private addNextWindows(state: KeyState, now: number): void {
    for (const window of [...state.windows.values()]) {
      const next = window.start + window.size * 1000;
      if (window.start > now || next <= now || next - now > PRECLAIM_INTERVALS * this.syncIntervalMs) continue;
      const perSecond = Math.ceil((window.demand * 1000) / Math.max(1000, now - window.start));
      this.windowOf(state, window.size, next, window.limit).expected = window.size === 1 ? window.demand : perSecond;
    }
  }

  private apply(batch: SyncItem[], states: CounterState[], now: number): void {
    const byWindow = new Map<string, CounterState>();
    for (const state of states) byWindow.set(`${state.windowSize}:${state.windowStart}:${state.key}`, state);
    const sawOthers = new Map<KeyState, boolean>();
    for (const item of batch) {
      const { window, state } = item;
      const counted = byWindow.get(`${window.size}:${window.start}:${item.key}`);
      if (!counted) continue;
      window.reported = Math.max(window.reported, item.own);
      window.others = counted.others;
      window.othersClaim = counted.othersClaim;
      window.claim = counted.claim;
      sawOthers.set(state, sawOthers.get(state) === true || counted.processes > 0);
      const processes = 1 + counted.processes;
      if (processes >= state.processes || now - state.processesSeenAt > PROCESSES_HOLD_MS) {
        state.processes = processes;
        state.processesSeenAt = now;
      }
    }
    for (const [state, others] of sawOthers) {
      state.quietRounds = others ? 0 : state.quietRounds + 1;
      // A second quiet round soon after the first confirms (or not) that the key is ours alone.
      if (state.quietRounds === 1) this.hurry = true;
    }
  }

  /** Forgets ended windows once written (or too old to matter) and keys with nothing left. */
  private evict(now: number): void {
    for (const [key, state] of this.keys) {
      for (const [id, window] of state.windows) {
        const ended = window.start + window.size * 1000 <= now;
        if (ended && (window.own <= window.reported || now - window.start > RETENTION_MS)) state.windows.delete(id);
      }
      if (state.windows.size === 0 && now - state.lastSeen >= Math.max(this.activeMs, PROCESSES_HOLD_MS)) this.keys.delete(key);
    }
  }
}
