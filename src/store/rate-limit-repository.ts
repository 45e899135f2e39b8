/**
 * The database side of the rate limiter (src/auth/rate-limiter.ts): the `rate_limit_counter`
 * table (migration 0003) holds, per key, fixed window and server process, what that process
 * accepted (`count`) and what it may accept before it next syncs (`claim`). Each process writes
 * only its own rows, so processes never wait on each other's row locks.
 *
 * Two ways to raise a claim. A sync round ({@link syncCounters}) gives each process a fair share
 * of what nobody has claimed, computed in one statement, which processes syncing at the same
 * moment may run side by side. A request bigger than its process's claim ({@link claimCounters})
 * needs more than a share: it reads the others' rows and raises its claim while holding the key's
 * advisory lock exclusively, and rounds hold it shared, so no other claim on the key moves in
 * between and two processes can never both take the same quota. Keys are locked by bucket
 * (the key's hash modulo {@link LOCK_BUCKETS}), so a round takes a bounded number of locks.
 * https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
 */
import type { Queryable } from './database.ts';

/** A database that can also run a transaction (src/store/database.ts `Database`). */
export interface CounterDatabase extends Queryable {
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
}

/** First key of the rate limiter's advisory locks ("rate"), so they meet no other code's. */
const LOCK_CLASS = 0x72617465;
/** Keys share this many advisory locks. */
const LOCK_BUCKETS = 64;
const BUCKET_OF = `(hashtext($1::text) & ${LOCK_BUCKETS - 1})`;

/** One window of one key as a sync round sends it. */
export interface CounterUpdate {
  key: string;
  /** Seconds: 1 or 60. */
  windowSize: number;
  /** Epoch ms. */
  windowStart: number;
  limit: number;
  /** Requests this process accepted in the window. */
  own: number;
  /** The most this round may add to the process's claim: what it expects to need. */
  want: number;
  /** How many processes (this one included) the process believes share the key. */
  processesHint: number;
}

/** What the table says about a window after the round: the others' totals and this process's claim. */
export interface CounterState {
  key: string;
  windowSize: number;
  windowStart: number;
  others: number;
  othersClaim: number;
  /** Other processes with a row for the window. */
  processes: number;
  claim: number;
}

interface CounterRow {
  key: string;
  window_size: number;
  window_start: string;
  others: number;
  others_claim: number;
  processes: number;
  claim: number;
}

/**
 * Reads every window of the batch (the others' counts and claims, and this process's own row),
 * computes this process's new claim — its count plus its share of what nobody has claimed, at
 * least 1 while any is left and at most `want` — and writes the row when the count or the claim
 * grew. Computing the claim inside the statement, from the rows it has just read, is what stops
 * two processes syncing at the same moment from claiming the same quota twice: each takes only
 * its share. Data-modifying CTEs run even when the main query does not read them.
 */
const SYNC_SQL = `
  WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::integer[], $5::integer[], $6::integer[], $7::integer[])
      AS b(key, window_size, window_start, lim, own, want, hint)
  ), seen AS (
    SELECT b.key, b.window_size, b.window_start, b.lim, b.own, b.want, b.hint,
           coalesce(sum(c.count) FILTER (WHERE c.owner <> $8::text), 0)::integer AS others,
           coalesce(sum(c.claim) FILTER (WHERE c.owner <> $8::text), 0)::integer AS others_claim,
           (count(c.owner) FILTER (WHERE c.owner <> $8::text))::integer AS processes,
           max(c.count) FILTER (WHERE c.owner = $8::text) AS my_count,
           max(c.claim) FILTER (WHERE c.owner = $8::text) AS my_claim
    FROM batch b
    LEFT JOIN rate_limit_counter c
      ON c.key = b.key AND c.window_size = b.window_size AND c.window_start = b.window_start
    GROUP BY b.key, b.window_size, b.window_start, b.lim, b.own, b.want, b.hint
  ), planned AS (
    SELECT s.*, greatest(coalesce(s.my_claim, 0), s.own + CASE
             WHEN x.unclaimed <= 0 THEN 0
             ELSE least(s.want, greatest(1, x.unclaimed / x.sharers))
           END) AS claim
    FROM seen s, LATERAL (
      SELECT s.lim - s.others_claim - s.own AS unclaimed,
             -- A first claim shares only with the processes expected that have not claimed yet;
             -- when more have claimed than expected, the estimate was wrong: share with them all.
             CASE WHEN s.my_claim IS NULL AND s.hint > s.processes THEN s.hint - s.processes
                  ELSE greatest(s.hint, 1 + s.processes) END AS sharers
    ) x
  ), written AS (
    INSERT INTO rate_limit_counter AS c (key, window_size, window_start, owner, count, claim)
    SELECT key, window_size, window_start, $8::text, own, claim FROM planned
    WHERE my_claim IS NULL OR claim > my_claim OR own > my_count
    ON CONFLICT (key, window_size, window_start, owner)
    DO UPDATE SET count = greatest(c.count, excluded.count), claim = greatest(c.claim, excluded.claim)
  )
  SELECT key, window_size, window_start, others, others_claim, processes, claim FROM planned`;

/** Rows another process is deleting right now are skipped, not waited for. */
const DELETE_SQL = `
  DELETE FROM rate_limit_counter WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM rate_limit_counter WHERE window_start < $1 LIMIT 10000 FOR UPDATE SKIP LOCKED))`;

/** The shared locks of a round's keys, taken in one order so that rounds and claims never deadlock. */
const SHARED_LOCKS_SQL = `
  SELECT pg_advisory_xact_lock_shared(${LOCK_CLASS}, bucket)
  FROM (SELECT DISTINCT hashtext(k) & ${LOCK_BUCKETS - 1} AS bucket FROM unnest($1::text[]) AS k ORDER BY 1) AS buckets`;

/**
 * One reconciliation round for all of `updates`, as process `owner`: one transaction holding the
 * keys' advisory locks shared (so no {@link claimCounters} runs on them meanwhile) around the
 * statement that writes and reads every window.
 */
export async function syncCounters(db: CounterDatabase, owner: string, updates: CounterUpdate[]): Promise<CounterState[]> {
  return db.transaction(async (tx) => {
    await tx.query(SHARED_LOCKS_SQL, [updates.map((u) => u.key)]);
    return syncInTransaction(tx, owner, updates);
  });
}

async function syncInTransaction(db: Queryable, owner: string, updates: CounterUpdate[]): Promise<CounterState[]> {
  const rows = await db.query<CounterRow>(SYNC_SQL, [
    updates.map((u) => u.key),
    updates.map((u) => u.windowSize),
    updates.map((u) => u.windowStart),
    updates.map((u) => u.limit),
    updates.map((u) => u.own),
    updates.map((u) => u.want),
    updates.map((u) => u.processesHint),
    owner,
  ]);
  return rows.map((row) => ({
    key: row.key,
    windowSize: Number(row.window_size),
    windowStart: Number(row.window_start),
    others: Number(row.others),
    othersClaim: Number(row.others_claim),
    processes: Number(row.processes),
    claim: Number(row.claim),
  }));
}

/** One window of a key as {@link claimCounters} finds it: the others' counts and claims, and this process's claim. */
export interface ClaimedWindow {
  windowSize: number;
  windowStart: number;
  /** What the other processes accepted. */
  others: number;
  /** What the other processes accepted or may still accept: the sum of their claims (or counts, when higher). */
  othersClaim: number;
  /** Other processes with a row for the window. */
  processes: number;
  /** This process's claim as the table holds it (0 without a row). */
  claim: number;
}

/** What {@link claimCounters} writes for this process in one window: its count and its new claim. */
export interface CounterWrite {
  windowSize: number;
  windowStart: number;
  count: number;
  claim: number;
}

const CLAIM_READ_SQL = `
  SELECT window_size, window_start,
         coalesce(sum(count) FILTER (WHERE owner <> $2), 0)::integer AS others,
         coalesce(sum(greatest(claim, count)) FILTER (WHERE owner <> $2), 0)::integer AS others_claim,
         (count(*) FILTER (WHERE owner <> $2))::integer AS processes,
         coalesce(max(claim) FILTER (WHERE owner = $2), 0)::integer AS claim
  FROM rate_limit_counter
  WHERE key = $1 AND ((window_size = 1 AND window_start >= $3) OR (window_size = 60 AND window_start >= $4))
  GROUP BY window_size, window_start`;

const CLAIM_WRITE_SQL = `
  INSERT INTO rate_limit_counter AS c (key, window_size, window_start, owner, count, claim)
  SELECT $1, w.size, w.start, $2, w.count, w.claim
  FROM unnest($3::smallint[], $4::bigint[], $5::integer[], $6::integer[]) AS w(size, start, count, claim)
  ON CONFLICT (key, window_size, window_start, owner)
  DO UPDATE SET count = greatest(c.count, excluded.count), claim = greatest(c.claim, excluded.claim)`;

/**
 * Raises process `owner`'s claims on `key` as `decide` says, alone: holding the key's advisory
 * lock, it reads every window of the key from `fromSecond` (one-second windows) and `fromMinute`
 * (minute windows) on, lets `decide` (synchronous) choose what to write from what the others hold,
 * writes that, and commits. Four round trips; for requests of several units beyond a claim only.
 */
export async function claimCounters(
  db: CounterDatabase, owner: string, key: string, from: { second: number; minute: number },
  decide: (windows: ClaimedWindow[]) => CounterWrite[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${BUCKET_OF})`, [key]);
    const rows = await tx.query<{ window_size: number; window_start: string; others: number; others_claim: number; processes: number; claim: number }>(
      CLAIM_READ_SQL, [key, owner, from.second, from.minute],
    );
    const writes = decide(rows.map((row) => ({
      windowSize: Number(row.window_size),
      windowStart: Number(row.window_start),
      others: Number(row.others),
      othersClaim: Number(row.others_claim),
      processes: Number(row.processes),
      claim: Number(row.claim),
    })));
    if (writes.length === 0) return;
    await tx.query(CLAIM_WRITE_SQL, [
      key, owner, writes.map((w) => w.windowSize), writes.map((w) => w.windowStart), writes.map((w) => w.count), writes.map((w) => w.claim),
    ]);
  });
}

/** Deletes (a bounded batch of) the windows that started before `beforeMs`, whoever wrote them. */
export async function deleteCountersBefore(db: Queryable, beforeMs: number): Promise<void> {
  await db.query(DELETE_SQL, [beforeMs]);
}
