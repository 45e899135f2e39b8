/**
 * The in-process half of the rate limiter (src/auth/rate-limiter.ts): per key, the fixed windows
 * this process counts in, what it accepted in each, what it last learnt of the other processes,
 * and the admission decision made from them. No I/O: the sync round
 * (src/auth/rate-limit/sync-round.ts) feeds it the others' counts and this process's claims.
 */
import type { RateDecision, RateLimit } from './rate-decision.ts';
import { largestWindow, shareOf, windowLimits, windowStart, type WindowSize } from './windows.ts';

/** One window of one key as this process sees it. */
export interface WindowCount {
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

/** Everything this process knows of one key. */
export interface KeyState {
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

/** How long a larger count of processes sharing a key is trusted (and the key remembered) after it was last seen. */
export const PROCESSES_HOLD_MS = 60_000;

const UNLIMITED: RateDecision = { allowed: true, limit: 0, remaining: 0, resetSeconds: 0 };

/** A decision and whether it took quota beyond this process's claim (so the others should hear of it soon). */
export interface LedgerDecision {
  decision: RateDecision;
  beyondClaim: boolean;
}

/**
 * Per-key fixed windows (each second, each minute, aligned to the clock) counted in process:
 * what this process accepted, what it may accept before its next sync (its claim), and what the
 * others had used and claimed at the last sync. {@link consume} decides from these alone.
 */
export class RateLedger {
  /** Every key this process has counted lately. */
  readonly keys = new Map<string, KeyState>();

  /** `onNewKey` is told when a key is first counted here, so a sync can follow at once. */
  constructor(private readonly onNewKey: () => void) {}

  /**
   * Counts `units` for `key` at `now` if the limits allow them, and says so. A refused request
   * is not counted. `paid` is what the same request was charged before (its arrival), so a
   * request's whole cost is `paid + units`. See `RateLimiter.consume` for the unit rules.
   */
  consume(key: string, limit: RateLimit, units: number, paid: number, now: number): LedgerDecision {
    const limits = windowLimits(limit);
    if (limits.length === 0 || units <= 0) return { decision: { ...UNLIMITED }, beyondClaim: false };
    const largest = largestWindow(limits);
    if (units + paid > largest.limit) {
      const tooCostly = { cost: units + paid, limit: largest.limit, windowSeconds: largest.size };
      return { decision: { allowed: false, limit: largest.limit, remaining: 0, resetSeconds: largest.size, tooCostly }, beyondClaim: false };
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
      const decision = { allowed: false, limit: worst.view.limit, remaining: 0, resetSeconds: worst.view.resetSeconds, retryAfterSeconds: worst.seconds };
      return { decision, beyondClaim: false };
    }
    let beyondClaim = false;
    for (const view of views) {
      const taken = Math.min(units, view.remaining);
      view.window.own += taken;
      view.remaining -= taken;
      beyondClaim ||= view.beyondClaim;
      if (taken < units) this.carryDebt(state, view, units - taken);
    }
    const tightest = views.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { decision: { allowed: true, limit: tightest.limit, remaining: tightest.remaining, resetSeconds: tightest.resetSeconds }, beyondClaim };
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

  /** The key's state, made afresh (and announced through `onNewKey`) when new. */
  stateOf(key: string, now: number): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { windows: new Map(), lastSeen: now, demand: 0, processes: 1, processesSeenAt: now, quietRounds: 0 };
      this.keys.set(key, state);
      this.onNewKey();
    }
    return state;
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

  /** How many processes (this one included) share the key, as far as this process knows. */
  processesOf(state: KeyState, now: number): number {
    return now - state.processesSeenAt <= PROCESSES_HOLD_MS ? state.processes : 1;
  }
}
