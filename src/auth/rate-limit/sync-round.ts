/**
 * One reconciliation of the rate limiter's in-process counts (src/auth/rate-limit/rate-ledger.ts)
 * with the `rate_limit_counter` table (src/store/rate-limit-repository.ts): what to send, and
 * what to make of the answer.
 */
import { deleteCountersBefore, syncCounters, type CounterDatabase, type CounterState } from '../../store/rate-limit-repository.ts';
import { PROCESSES_HOLD_MS, type KeyState, type RateLedger, type WindowCount } from './rate-ledger.ts';

/** A key's next window is claimed when it starts within this many sync intervals. */
const PRECLAIM_INTERVALS = 3;
/** Windows older than this are deleted from the table... */
const RETENTION_MS = 120_000;
/** ...at most this often, by whichever process is syncing. */
const CLEANUP_EVERY_MS = 10_000;

interface SyncItem {
  key: string;
  state: KeyState;
  window: WindowCount;
  own: number;
  want: number;
}

/** What a {@link SyncRound} needs to know of its limiter. */
export interface SyncRoundOptions {
  /** This process's rows in the table. */
  owner: string;
  syncIntervalMs: number;
  /** A key used within this long is still read at each sync to learn the others' use. */
  activeMs: number;
  now: () => number;
}

/**
 * The sync round of the rate limiter: in one statement (inside a transaction holding its keys'
 * advisory locks shared) it writes this process's new counts and claims, reads the others' for
 * recently used keys, and now and then (a second statement, every
 * 10 s at most) deletes windows that ended over two minutes ago. It makes no query when no key
 * is active. Not reentrant: the limiter never runs two at once.
 */
export class SyncRound {
  private lastCleanup = -Infinity;

  constructor(private readonly db: CounterDatabase, private readonly ledger: RateLedger, private readonly options: SyncRoundOptions) {}

  /**
   * Runs one round; resolves to true when another should follow closely (a key just found
   * without other processes, to confirm it), and rejects when the database fails.
   */
  async run(): Promise<boolean> {
    const { now: clock, owner } = this.options;
    const now = clock();
    this.evict(now);
    const batch = this.collect(now);
    if (batch.length === 0) return false;
    const states = await syncCounters(this.db, owner, batch.map((item) => ({
      key: item.key,
      windowSize: item.window.size,
      windowStart: item.window.start,
      limit: item.window.limit,
      own: item.own,
      want: item.want,
      processesHint: this.ledger.processesOf(item.state, now),
    })));
    const hurry = this.apply(batch, states, clock());
    if (now - this.lastCleanup >= CLEANUP_EVERY_MS) {
      this.lastCleanup = now;
      await deleteCountersBefore(this.db, now - RETENTION_MS);
    }
    return hurry;
  }

  /**
   * What a round syncs: windows with counts the table lacks, and for keys used lately their
   * current windows and, shortly before it starts, the next one. Claiming the next window ahead
   * of time means no process starts a window on quota the others cannot see.
   */
  private collect(now: number): SyncItem[] {
    const batch: SyncItem[] = [];
    for (const [key, state] of this.ledger.keys) {
      const active = now - state.lastSeen < this.options.activeMs;
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
      if (window.start > now || next <= now || next - now > PRECLAIM_INTERVALS * this.options.syncIntervalMs) continue;
      const perSecond = Math.ceil((window.demand * 1000) / Math.max(1000, now - window.start));
      this.ledger.windowOf(state, window.size, next, window.limit).expected = window.size === 1 ? window.demand : perSecond;
    }
  }

  /** Takes in the table's answer; true when a key was just found alone for the first time. */
  private apply(batch: SyncItem[], states: CounterState[], now: number): boolean {
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
    let hurry = false;
    for (const [state, others] of sawOthers) {
      state.quietRounds = others ? 0 : state.quietRounds + 1;
      // A second quiet round soon after the first confirms (or not) that the key is ours alone.
      if (state.quietRounds === 1) hurry = true;
    }
    return hurry;
  }

  /** Forgets ended windows once written (or too old to matter) and keys with nothing left. */
  private evict(now: number): void {
    for (const [key, state] of this.ledger.keys) {
      for (const [id, window] of state.windows) {
        const ended = window.start + window.size * 1000 <= now;
        if (ended && (window.own <= window.reported || now - window.start > RETENTION_MS)) state.windows.delete(id);
      }
      if (state.windows.size === 0 && now - state.lastSeen >= Math.max(this.options.activeMs, PROCESSES_HOLD_MS)) this.ledger.keys.delete(key);
    }
  }
}
