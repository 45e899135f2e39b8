/**
 * SQL for the change feed (src/changes/README.md): stamping committed `change_event` rows with a
 * feed position, reading them back by position, pruning old ones, and the durable cursors of
 * server-side consumers. Every statement is parameterised; reading a page, stamping a round and
 * pruning a batch are one statement each.
 */
import type { Queryable } from './database.ts';
import type { StoredVersion } from './resource-repository.ts';

/** What a change did to its resource (the `change_event.action` column). */
export type ChangeAction = 'create' | 'update' | 'delete';

/** One stamped row of `change_event`. */
export interface ChangeEventRow {
  position: number;
  resourceType: string;
  id: string;
  /** The version the change wrote (for a delete: the deletion's own version). */
  versionId: number;
  action: ChangeAction;
  recordedAt: Date;
}

/** Which events a read returns; absent fields do not filter. */
export interface ChangeEventFilter {
  resourceTypes?: readonly string[];
  actions?: readonly ChangeAction[];
}

/** A page of the feed and the feed's bounds, all seen in one snapshot. */
export interface ChangeEventPage {
  events: ChangeEventRow[];
  /** The last position handed out. */
  head: number;
  /** Every event at or below this position has been pruned by retention. */
  prunedThrough: number;
}

/** Advisory lock key of the sequencer ("fgsq"): one stamping round at a time across processes. */
const SEQUENCER_LOCK_KEY = 0x66677371;
/** Advisory lock key of retention ("fgrt"): one pruning round at a time across processes. */
const RETENTION_LOCK_KEY = 0x66677274;

function toPosition(text: string | number | null | undefined): number {
  const value = Number(text ?? 0);
  if (!Number.isSafeInteger(value)) throw new Error(`Invariant failed: feed position ${text} is not a safe integer`);
  return value;
}

/**
 * Stamps up to `limit` committed, unstamped events (the oldest by `seq`) with the next feed
 * positions, each transaction's events together and in the order it wrote them (by `txid`, then
 * `seq`), inside the caller's transaction, under the sequencer's transaction-level advisory lock (taken
 * first, and waited for: when the lock is granted the stamping statement's snapshot sees every
 * row committed until then). Rows of transactions still in flight are invisible, stay unstamped
 * and get a later position in a later round, so a reader paging by position never skips them.
 * Sends `channel` a notification carrying the new head when it stamped anything (delivered at
 * commit). Returns how many it stamped and the head.
 */
export async function stampChangeEvents(tx: Queryable, limit: number, channel: string): Promise<{ stamped: number; head: number }> {
  // A round stuck behind a holder that hangs gives up after 10 s (the next poll tries again)
  // rather than hold a pooled connection for as long as the holder's TCP connection lingers.
  await tx.query(`SELECT set_config('lock_timeout', '10s', true), pg_advisory_xact_lock($1)`, [SEQUENCER_LOCK_KEY]);
  const rows = await tx.query<{ stamped: number; head: string | null }>(
    `WITH todo AS MATERIALIZED (
       SELECT seq, row_number() OVER (ORDER BY txid, seq) AS n
         FROM (SELECT seq, txid FROM change_event WHERE position IS NULL ORDER BY seq LIMIT $1) s
     ), moved AS (
       UPDATE change_feed_state SET head = head + (SELECT count(*) FROM todo)
        WHERE EXISTS (SELECT 1 FROM todo)
        RETURNING head, head - (SELECT count(*) FROM todo) AS base
     ), stamped AS (
       UPDATE change_event c SET position = moved.base + todo.n
         FROM todo, moved WHERE c.seq = todo.seq
         RETURNING c.position
     )
     SELECT count(*)::int AS stamped, max(position)::text AS head,
            CASE WHEN count(*) > 0 THEN pg_notify($2, max(position)::text) END AS notified
       FROM stamped`,
    [limit, channel],
  );
  return { stamped: rows[0]?.stamped ?? 0, head: toPosition(rows[0]?.head) };
}

/** True when some committed event still waits for a position (a cheap probe of a small partial index). */
export async function hasUnstampedEvents(q: Queryable): Promise<boolean> {
  const rows = await q.query<{ waiting: boolean }>('SELECT EXISTS (SELECT 1 FROM change_event WHERE position IS NULL) AS waiting');
  return rows[0]?.waiting === true;
}

/**
 * Reads up to `limit` events with a position after `after` (and at most `through`, when given),
 * in position order, with the feed's head and pruning mark from the same snapshot, so a caller
 * can tell an empty page from a pruned one.
 */
export async function readChangeEvents(
  q: Queryable, after: number, limit: number, filter: ChangeEventFilter = {}, through?: number,
): Promise<ChangeEventPage> {
  const params: unknown[] = [after, limit];
  const where = ['c.position > $1'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (through !== undefined) add('c.position <= ?', through);
  if (filter.resourceTypes) add('c.resource_type = ANY(?::text[])', filter.resourceTypes);
  if (filter.actions) add('c.action = ANY(?::text[])', filter.actions);
  const rows = await q.query<{
    head: string; prunedThrough: string; position: string | null; resourceType: string; id: string;
    versionId: number; action: ChangeAction; recordedAt: Date | string;
  }>(
    `SELECT s.head::text AS head, s.pruned_through::text AS "prunedThrough", e.*
       FROM change_feed_state s
       LEFT JOIN LATERAL (
         SELECT c.position::text AS position, c.resource_type AS "resourceType", c.id, c.version_id AS "versionId",
                c.action, c.recorded_at AS "recordedAt"
           FROM change_event c WHERE ${where.join(' AND ')}
          ORDER BY c.position LIMIT $2 -- the column, not the text alias
       ) e ON true`,
    params,
  );
  const first = rows[0];
  return {
    head: toPosition(first?.head),
    prunedThrough: toPosition(first?.prunedThrough),
    events: rows.filter((r) => r.position !== null).map((r) => ({
      position: toPosition(r.position),
      resourceType: r.resourceType,
      id: r.id,
      versionId: r.versionId,
      action: r.action,
      recordedAt: typeof r.recordedAt === 'string' ? new Date(r.recordedAt) : r.recordedAt,
    })),
  };
}

/** The feed's head and pruning mark. */
export async function readFeedBounds(q: Queryable): Promise<{ head: number; prunedThrough: number }> {
  const rows = await q.query<{ head: string; prunedThrough: string }>(
    'SELECT head::text AS head, pruned_through::text AS "prunedThrough" FROM change_feed_state',
  );
  return { head: toPosition(rows[0]?.head), prunedThrough: toPosition(rows[0]?.prunedThrough) };
}

/**
 * One pruning round in the caller's transaction: deletes, from the oldest retained event on, the
 * longest run of events recorded more than `retentionSeconds` ago, stopping at the lowest durable
 * cursor and after `batch` events, and moves the pruning mark to the last one deleted. Returns
 * how many it deleted, or `undefined` when another process is pruning.
 */
export async function pruneChangeEvents(tx: Queryable, retentionSeconds: number, batch: number): Promise<number | undefined> {
  const locked = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [RETENTION_LOCK_KEY]);
  if (!locked[0]?.locked) return undefined;
  const rows = await tx.query<{ pruned: number }>(
    `WITH bounds AS (
       SELECT s.pruned_through AS low,
              least(s.head, (SELECT min(position) FROM change_cursor)) AS high
         FROM change_feed_state s
     ), candidates AS MATERIALIZED (
       SELECT c.position, c.recorded_at FROM change_event c, bounds
        WHERE c.position > bounds.low AND c.position <= bounds.high
        ORDER BY c.position LIMIT $2
     ), cut AS (
       SELECT coalesce(
         (SELECT min(position) - 1 FROM candidates WHERE recorded_at >= now() - make_interval(secs => $1)),
         (SELECT max(position) FROM candidates)) AS through
     ), gone AS (
       DELETE FROM change_event c USING bounds, cut
        WHERE c.position > bounds.low AND c.position <= cut.through
        RETURNING 1
     ), marked AS (
       UPDATE change_feed_state SET pruned_through = cut.through FROM cut, bounds
        WHERE cut.through > bounds.low
        RETURNING 1
     )
     SELECT (SELECT count(*) FROM gone)::int AS pruned, (SELECT count(*) FROM marked) AS marked`,
    [retentionSeconds, batch],
  );
  return rows[0]?.pruned ?? 0;
}

/** Creates or moves a durable cursor (in the caller's transaction, so it moves with the work it records). */
export async function saveChangeCursor(q: Queryable, name: string, position: number): Promise<void> {
  await q.query(
    `INSERT INTO change_cursor (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`,
    [name, position],
  );
}

/** A durable cursor's position, or `undefined`. */
export async function loadChangeCursor(q: Queryable, name: string): Promise<number | undefined> {
  const rows = await q.query<{ position: string }>('SELECT position::text AS position FROM change_cursor WHERE name = $1', [name]);
  return rows[0] ? toPosition(rows[0].position) : undefined;
}

/** Creates a durable cursor at `position` unless it exists (it then stays where it is). */
export async function createChangeCursor(q: Queryable, name: string, position: number): Promise<void> {
  await q.query('INSERT INTO change_cursor (name, position) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, position]);
}

/**
 * Locks a durable cursor until the caller's transaction ends and returns its position, or
 * `undefined` when another transaction holds it (or it does not exist): one consumer round at a
 * time across processes, the others skip instead of queueing up.
 */
export async function claimChangeCursor(tx: Queryable, name: string): Promise<number | undefined> {
  const rows = await tx.query<{ position: string }>('SELECT position::text AS position FROM change_cursor WHERE name = $1 FOR UPDATE SKIP LOCKED', [name]);
  return rows[0] ? toPosition(rows[0].position) : undefined;
}

/**
 * Where the events recorded at or after `instant` start: the position before the first of them
 * (the head when there is none), with the first kept event's position and the pruning mark, so a
 * caller can tell whether retention may have pruned some of them.
 */
export async function readPositionAt(q: Queryable, instant: Date): Promise<{ before: number; firstKept: number | undefined; prunedThrough: number }> {
  const rows = await q.query<{ head: string; prunedThrough: string; firstAt: string | null; firstKept: string | null }>(
    `SELECT s.head::text AS head, s.pruned_through::text AS "prunedThrough",
            (SELECT c.position FROM change_event c WHERE c.position > s.pruned_through AND c.recorded_at >= $1
              ORDER BY c.position LIMIT 1)::text AS "firstAt",
            (SELECT min(c.position) FROM change_event c WHERE c.position > s.pruned_through)::text AS "firstKept"
       FROM change_feed_state s`,
    [instant.toISOString()],
  );
  const row = rows[0];
  const firstAt = row?.firstAt === null || row?.firstAt === undefined ? undefined : toPosition(row.firstAt);
  return {
    before: firstAt === undefined ? toPosition(row?.head) : firstAt - 1,
    firstKept: row?.firstKept === null || row?.firstKept === undefined ? undefined : toPosition(row.firstKept),
    prunedThrough: toPosition(row?.prunedThrough),
  };
}

/** Removes a durable cursor (retention may then prune what only it still needed). */
export async function deleteChangeCursor(q: Queryable, name: string): Promise<void> {
  await q.query('DELETE FROM change_cursor WHERE name = $1', [name]);
}

/** One version of one resource, to read from history. */
export interface VersionKey {
  resourceType: string;
  id: string;
  versionId: number;
}

/** Reads many versions from history in one statement, keyed `Type/id/versionId` (missing ones absent). */
export async function readVersionsByKey(q: Queryable, keys: readonly VersionKey[]): Promise<Map<string, StoredVersion>> {
  if (keys.length === 0) return new Map();
  const rows = await q.query<StoredVersion>(
    `SELECT h.resource_type AS "resourceType", h.id, h.version_id AS "versionId", h.last_updated AS "lastUpdated",
            h.deleted, h.content::text AS content
       FROM unnest($1::text[], $2::text[], $3::int[]) AS k(resource_type, id, version_id)
       JOIN resource_history h USING (resource_type, id, version_id)`,
    [keys.map((k) => k.resourceType), keys.map((k) => k.id), keys.map((k) => k.versionId)],
  );
  return new Map(rows.map((r) => {
    if (typeof r.lastUpdated === 'string') r.lastUpdated = new Date(r.lastUpdated);
    return [`${r.resourceType}/${r.id}/${r.versionId}`, r];
  }));
}
