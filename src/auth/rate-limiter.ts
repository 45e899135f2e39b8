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
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../store/database.ts';
import type { RateDecision, RateLimit } from './rate-limit/rate-decision.ts';
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

type WindowSize = 1 | 60;

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
  resetSeconds: number;
  /** True when no more can be had in this window, from any process; false when a sync may help. */
  exhausted: boolean;
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

function windowStart(size: WindowSize, now: number): number {
  const ms = size * 1000;
  return Math.floor(now / ms) * ms;
}

/** What this process may still accept of `left` when `processes` share it: at least 1 while any is left. */
function shareOf(left: number, processes: number): number {
  return left <= 0 ? 0 : Math.max(1, Math.floor(left / processes));
}

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
   * Counts `units` (one request by default) for `key` if every limited window has room for them,
   * and says so; synchronous, no I/O. A refused request is not counted.
   */
  consume(key: string, limit: RateLimit, units = 1): RateDecision {
    const now = this.now();
    const limits: Array<[WindowSize, number]> = [];
    const perSecond = Math.floor(limit.perSecond);
    const perMinute = Math.floor(limit.perMinute);
    if (perSecond > 0) limits.push([1, perSecond]);
    if (perMinute > 0) limits.push([60, perMinute]);
    if (limits.length === 0) return { ...UNLIMITED };

    const state = this.stateOf(key, now);
    state.lastSeen = now;
    state.demand += units;
    const views = limits.map(([size, max]) => this.view(state, size, max, now, units));
    const allowed = views.every((view) => view.remaining >= units);
    if (!allowed) {
      // The refusing window that frees up last decides when a retry can succeed.
      const refusing = views.filter((view) => view.remaining < units);
      const retryAfter = (view: WindowView) => (view.exhausted ? view.resetSeconds : 1);
      const worst = refusing.reduce((a, b) => (retryAfter(b) > retryAfter(a) ? b : a));
      return { allowed: false, limit: worst.limit, remaining: 0, resetSeconds: worst.resetSeconds, retryAfterSeconds: retryAfter(worst) };
    }
    for (const view of views) {
      view.window.own += units;
      view.remaining -= units;
    }
    const tightest = views.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { allowed: true, limit: tightest.limit, remaining: tightest.remaining, resetSeconds: tightest.resetSeconds };
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
    const remaining = Math.max(0, Math.min(globalLeft, claim - window.own));
    const resetSeconds = Math.max(1, Math.ceil((window.start + size * 1000 - now) / 1000));
    const exhausted = globalLeft <= 0 || limit - window.othersClaim - window.own <= 0;
    return { window, limit, remaining, resetSeconds, exhausted };
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
