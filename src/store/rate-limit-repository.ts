/**
 * The database side of the rate limiter (src/auth/rate-limiter.ts): the `rate_limit_counter`
 * table (migration 0003) holds, per key, fixed window and server process, what that process
 * accepted (`count`) and what it may accept before it next syncs (`claim`). Each process writes
 * only its own rows, so processes never wait on each other's row locks.
 */
import type { Queryable } from './database.ts';

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

/** One reconciliation round trip for all of `updates`, as process `owner`. */
export async function syncCounters(db: Queryable, owner: string, updates: CounterUpdate[]): Promise<CounterState[]> {
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

/** Deletes (a bounded batch of) the windows that started before `beforeMs`, whoever wrote them. */
export async function deleteCountersBefore(db: Queryable, beforeMs: number): Promise<void> {
  await db.query(DELETE_SQL, [beforeMs]);
}
