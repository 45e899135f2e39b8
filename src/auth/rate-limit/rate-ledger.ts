/**
 * The in-process half of the rate limiter (src/auth/rate-limiter.ts): per key, the fixed windows
 * this process counts in, what it accepted in each, what it last learnt of the other processes,
 * and the admission decisions made from them. No I/O: the sync round
 * (src/auth/rate-limit/sync-round.ts) and the limiter's claims feed it what the table holds.
 */
import type { ClaimedWindow, CounterWrite } from '../../store/rate-limit-repository.ts';
import type { RateDecision, RateLimit } from './rate-decision.ts';
import { largestWindow, shareOf, windowLimits, windowStart, type WindowSize } from './windows.ts';

/** One window of one key as this process sees it. */
export interface WindowCount {
  readonly size: WindowSize;
  /** Epoch ms, a multiple of `size` seconds. */
  readonly start: number;
  /** The limit of the latest request, used when claiming. */
  limit: number;
  /** Units accepted here in this window. */
  own: number;
  /** Units asked here in this window (single requests whether accepted or not, larger ones once accepted). */
  demand: number;
  /** For a window not started yet, the demand of the one before: what it will likely need. */
  expected: number;
  /** The part of `own` the table already holds. */
  reported: number;
  /** The other processes' counts and claims when this process last read them. */
  others: number;
  othersClaim: number;
  /** What this process may accept in this window; before its first sync, a share of the limit. */
  claim: number | undefined;
}

/** Everything this process knows of one key. */
export interface KeyState {
  /** By `size:start`: the current windows, ended ones not yet written, and claimed next ones. */
  windows: Map<string, WindowCount>;
  lastSeen: number;
  /** Units asked here since the last sync took its snapshot (as `WindowCount.demand`). */
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
  /** What this process may take of the window now. */
  remaining: number;
  /** What the window must have left to admit the request: all of it, or 1 when the request is bigger than the window. */
  need: number;
  resetSeconds: number;
  /** True when the request cannot be had in this window, from any process; false when a sync or claim may help. */
  exhausted: boolean;
}

/** How long a larger count of processes sharing a key is trusted (and the key remembered) after it was last seen. */
export const PROCESSES_HOLD_MS = 60_000;

const UNLIMITED: RateDecision = { allowed: true, limit: 0, remaining: 0, resetSeconds: 0 };

/**
 * Per-key fixed windows (each second, each minute, aligned to the clock) counted in process:
 * what this process accepted, what it may accept (its claim), and what the others had used and
 * claimed when it last looked. Three ways to decide, from the cheapest:
 * - {@link consumeOne}: one unit, within this process's claim (or the limit, when it has found
 *   itself alone on the key);
 * - {@link consumeLocally}: several units, only within a claim the table granted, never on debt;
 * - {@link consumeClaimed}: several units, against what the table says the others hold, read
 *   while no other claim on the key can move.
 */
export class RateLedger {
  /** Every key this process has counted lately. */
  readonly keys = new Map<string, KeyState>();

  /** `onNewKey` is told when a key is first counted here, so a sync can follow at once. */
  constructor(private readonly onNewKey: () => void) {}

  /**
   * Counts one unit for `key` at `now` if this process's claim (or the limit, alone on the key)
   * allows it, and says so. A refused unit is not counted. Claims only matter between processes:
   * one that has found itself alone on a key twice in a row takes bursts up to the limit rather
   * than up to what it claimed for its recent demand; should another process turn up meanwhile,
   * together they overshoot by at most what this one accepts before its next sync.
   */
  consumeOne(key: string, limit: RateLimit, now: number): RateDecision {
    return this.countOne(key, limit, now, false)!;
  }

  /**
   * As {@link consumeOne}, but answers `undefined` instead of refusing when only this process's
   * claim is used up and the limit, as far as this process knows, still has room: a claim round
   * trip ({@link consumeClaimed}) can tell, so a client under its limit is not refused because
   * the last sync claimed little for it.
   */
  consumeOneLocally(key: string, limit: RateLimit, now: number): RateDecision | undefined {
    return this.countOne(key, limit, now, true);
  }

  private countOne(key: string, limit: RateLimit, now: number, askWhenClaimed: boolean): RateDecision | undefined {
    const limits = windowLimits(limit);
    if (limits.length === 0) return { ...UNLIMITED };
    const state = this.touch(key, now);
    const processes = this.processesOf(state, now);
    const views = limits.map(([size, max]) => {
      const window = this.current(state, size, max, now);
      const alone = processes === 1 && state.quietRounds >= 2 && window.others === 0 && window.othersClaim === 0;
      const claim = alone ? max : window.claim ?? shareOf(max, processes);
      return this.view(window, now, 1, Math.min(max - window.others - window.own, claim - window.own));
    });
    const refusing = views.filter((view) => view.remaining < view.need);
    if (askWhenClaimed && refusing.length > 0 && refusing.every((view) => !view.exhausted)) return undefined;
    // The unit is asked once, whether decided here or after a claim round trip.
    state.demand += 1;
    for (const view of views) view.window.demand += 1;
    return this.decide(state, views, 1, now);
  }

  /**
   * Counts `units` for `key` at `now` when this process may accept all of them without asking
   * the others: every window has room for them within the claim the table granted it (a claim
   * presumed before the first sync, or the whole limit of a process alone on the key, does not
   * count), with no debt. Refuses them when the windows are exhausted as far as this
   * process knows (the others' counts and claims only grow within a window). Otherwise answers
   * `undefined`: only {@link consumeClaimed} can tell. One unit is decided as {@link consumeOne}
   * decides a request's arrival.
   */
  consumeLocally(key: string, limit: RateLimit, units: number, paid: number, now: number): RateDecision | undefined {
    const early = this.unlimitedOrTooCostly(limit, units, paid);
    if (early) return early;
    if (units === 1) return this.consumeOneLocally(key, limit, now); // the rest of a request's work, as small as its arrival
    const state = this.touch(key, now);
    const views = windowLimits(limit).map(([size, max]) => {
      const window = this.current(state, size, max, now);
      return this.view(window, now, units, Math.min(max - window.others - window.own, (window.claim ?? 0) - window.own));
    });
    if (views.some((view) => view.remaining < view.need && view.exhausted)) return this.decide(state, views, units, now);
    if (views.every((view) => view.remaining >= units)) return this.decide(state, views, units, now);
    return undefined;
  }

  /**
   * Decides on `units` for `key` at `now` from `table`, every window of the key from `now`'s on
   * as the table holds it, read under the key's exclusive lock: the request may take whatever
   * the others have neither accepted nor claimed. A smaller window than the request carries the
   * rest as debt into the windows that follow, each up to what the others left of it. Answers
   * the decision and, when admitted, the counts and claims to write: the claim is raised to the
   * count, so nobody else can take the quota the request took, plus (in a current window) a
   * share of what is left, as a sync round would.
   */
  consumeClaimed(key: string, limit: RateLimit, units: number, paid: number, now: number, table: ClaimedWindow[]): { decision: RateDecision; writes: CounterWrite[]; undo: () => void } {
    const nothing = { writes: [], undo: () => undefined };
    const early = this.unlimitedOrTooCostly(limit, units, paid);
    if (early) return { decision: early, ...nothing };
    const state = this.touch(key, now);
    const limits = windowLimits(limit);
    this.learn(state, limits, now, table);
    const views = limits.map(([size, max]) => {
      const window = this.current(state, size, max, now);
      return this.view(window, now, units, max - Math.max(window.others, window.othersClaim) - window.own);
    });
    if (units === 1) {
      // A single unit reaches here when this process's claim was used up ({@link consumeOneLocally}
      // left it uncounted); like any unit it counts as asked, admitted or not.
      state.demand += 1;
      for (const view of views) view.window.demand += 1;
    }
    const before = new Map([...state.windows.values()].map((window) => [window, { ...window }]));
    const decision = this.decide(state, views, units, now);
    if (!decision.allowed) return { decision, ...nothing };
    // Like a sync round, the claim of a current window also covers a fair share of what is left,
    // up to twice the recent demand, so the single requests that follow need not wait for one.
    const processes = Math.max(this.processesOf(state, now), 1 + Math.max(0, ...table.map((row) => row.processes)));
    const margins = new Map(views.map(({ window }) => {
      const left = window.limit - Math.max(window.others, window.othersClaim) - window.own;
      return [window, Math.min(Math.max(1, 2 * state.demand), shareOf(left, processes))];
    }));
    const charged: Array<[WindowCount, number]> = [];
    for (const window of state.windows.values()) {
      const delta = window.own - (before.get(window)?.own ?? 0);
      if (delta === 0) continue;
      charged.push([window, delta]);
      window.claim = Math.max(window.claim ?? 0, window.own + (margins.get(window) ?? 0));
      window.reported = Math.max(window.reported, window.own);
    }
    const writes = charged.map(([window]) => ({ windowSize: window.size, windowStart: window.start, count: window.own, claim: window.claim ?? window.own }));
    // When the write fails: uncount the request, and forget the claims the table never took.
    const undo = () => {
      for (const [window, delta] of charged) {
        window.own -= delta;
        window.claim = before.get(window)?.claim;
        window.reported = Math.min(window.reported, before.get(window)?.reported ?? 0);
      }
    };
    return { decision, writes, undo };
  }

  /** Takes in the table's view of the key's windows from `now`'s on (none listed: nobody else has a row). */
  private learn(state: KeyState, limits: Array<[WindowSize, number]>, now: number, table: ClaimedWindow[]): void {
    const read = new Map(table.map((row) => [`${row.windowSize}:${row.windowStart}`, row]));
    for (const [size, max] of limits) this.current(state, size, max, now);
    for (const row of table) {
      const max = limits.find(([size]) => size === row.windowSize)?.[1];
      if (max !== undefined) this.windowOf(state, row.windowSize as WindowSize, row.windowStart, max);
    }
    for (const window of state.windows.values()) {
      if (window.start < windowStart(window.size, now)) continue;
      const row = read.get(`${window.size}:${window.start}`);
      window.others = row?.others ?? 0;
      window.othersClaim = row?.othersClaim ?? 0;
      if (row) window.claim = Math.max(window.claim ?? 0, row.claim);
    }
  }

  /** The answer for a request no limit applies to, or one costing more than a whole largest window. */
  private unlimitedOrTooCostly(limit: RateLimit, units: number, paid: number): RateDecision | undefined {
    const limits = windowLimits(limit);
    if (limits.length === 0 || units <= 0) return { ...UNLIMITED };
    const largest = largestWindow(limits);
    if (units + paid <= largest.limit) return undefined;
    const tooCostly = { cost: units + paid, limit: largest.limit, windowSeconds: largest.size };
    return { allowed: false, limit: largest.limit, remaining: 0, resetSeconds: largest.size, tooCostly };
  }

  /** Admits `units` when every window has what it needs (counting them, debt included), else refuses them. */
  private decide(state: KeyState, views: WindowView[], units: number, now: number): RateDecision {
    const refusing = views.filter((view) => view.remaining < view.need);
    if (refusing.length > 0) {
      // The refusing window that frees up last decides when a retry can succeed.
      const waits = refusing.map((view) => ({ view, seconds: this.retryAfter(state, view, now) }));
      const worst = waits.reduce((a, b) => (b.seconds > a.seconds ? b : a));
      return { allowed: false, limit: worst.view.limit, remaining: 0, resetSeconds: worst.view.resetSeconds, retryAfterSeconds: worst.seconds };
    }
    if (units > 1) state.demand += units; // a single unit was counted as asked already
    for (const view of views) {
      const taken = Math.min(units, view.remaining);
      view.window.own += taken;
      view.remaining -= taken;
      if (units > 1) view.window.demand += units;
      if (taken < units) this.carryDebt(state, view, units - taken);
    }
    const tightest = views.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { allowed: true, limit: tightest.limit, remaining: tightest.remaining, resetSeconds: tightest.resetSeconds };
  }

  /** Charges `debt` units to the windows of `view`'s size that follow it, each up to what the others left of it. */
  private carryDebt(state: KeyState, view: WindowView, debt: number): void {
    const { size } = view.window;
    for (let start = view.window.start + size * 1000; debt > 0; start += size * 1000) {
      const next = this.windowOf(state, size, start, view.limit);
      const charged = Math.min(debt, Math.max(0, view.limit - Math.max(next.others, next.othersClaim) - next.own));
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

  /** The key's state, made afresh (and announced through `onNewKey`) when new, marked as used at `now`. */
  private touch(key: string, now: number): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { windows: new Map(), lastSeen: now, demand: 0, processes: 1, processesSeenAt: now, quietRounds: 0 };
      this.keys.set(key, state);
      this.onNewKey();
    }
    state.lastSeen = now;
    return state;
  }

  /** The key's window of `size` holding `now`, with the limit of the latest request. */
  private current(state: KeyState, size: WindowSize, limit: number, now: number): WindowCount {
    const window = this.windowOf(state, size, windowStart(size, now), limit);
    window.limit = limit;
    return window;
  }

  /** The key's window of `size` starting at `start`, made afresh (no claim yet) when new. */
  windowOf(state: KeyState, size: WindowSize, start: number, limit: number): WindowCount {
    const id = `${size}:${start}`;
    let window = state.windows.get(id);
    if (!window) {
      window = { size, start, limit, own: 0, demand: 0, expected: 0, reported: 0, others: 0, othersClaim: 0, claim: undefined };
      state.windows.set(id, window);
    }
    return window;
  }

  /** `window` as a request of `units` sees it, when this process may take `room` of it. */
  private view(window: WindowCount, now: number, units: number, room: number): WindowView {
    const { size, limit } = window;
    // A window smaller than the request only needs to be not exhausted (the rest becomes debt).
    const need = units > limit ? 1 : units;
    const resetSeconds = Math.max(1, Math.ceil((window.start + size * 1000 - now) / 1000));
    const exhausted = limit - Math.max(window.others, window.othersClaim) - window.own < need;
    return { window, limit, remaining: Math.max(0, room), need, resetSeconds, exhausted };
  }

  /** How many processes (this one included) share the key, as far as this process knows. */
  processesOf(state: KeyState, now: number): number {
    return now - state.processesSeenAt <= PROCESSES_HOLD_MS ? state.processes : 1;
  }
}
