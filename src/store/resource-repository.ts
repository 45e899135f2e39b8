/**
 * SQL for the resource store: read the current or a past version, lock resources for a write,
 * write a batch of new versions (current row, history row, index rows, change event) in one
 * statement, and page through history. Every statement is parameterised; a batch of any size
 * costs the same number of round trips.
 */
import type { IndexRow } from '../search/index-rows.ts';
import { projectedContent } from '../search/sql/projected-content.ts';
import { auditInsertSql, insertAuditEvents, insertPostedAuditEvents, type AuditEventInsert } from './audit-repository.ts';
import { invariant } from '../fhir/outcomes.ts';
import type { Queryable } from './database.ts';
import type { ResourceRow } from './entities.ts';
import { INDEX_PARAM_COUNT, indexWriteCtes, indexWriteParams } from './search-index-repository.ts';
import { StaleStateError } from './stale-state-error.ts';

/** One stored version of a resource; `content` is its JSON text (null for a deletion). */
export type StoredVersion = ResourceRow;

export interface HistoryVersion extends StoredVersion {
  seq: string;
  method: string;
}

/** A new version to persist. */
export interface VersionToWrite extends StoredVersion {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  action: 'create' | 'update' | 'delete';
  /** The search index rows of this version (none for a deletion). */
  indexRows: IndexRow[];
  /** Client that wrote it; kept from the first version on (ownership of DocumentReference/Binary). */
  createdBy?: string;
  /**
   * False for the server's own bookkeeping writes that the change feed must not publish (a
   * Subscription's status changes, so a webhook never fires about itself). AuditEvents are never
   * published, whatever this says (DECISIONS.md §3).
   */
  emitChange?: boolean;
}

export interface CurrentState {
  versionId: number;
  deleted: boolean;
  createdBy?: string | null;
}

const VERSION_COLUMNS = `resource_type AS "resourceType", id, version_id AS "versionId",
  last_updated AS "lastUpdated", deleted, content::text AS content`;

/** Kept here too for the store's callers; the SQL lives with the search SQL, which the store builds on. */
export { projectedContent };

/**
 * MikroORM's driver setup returns `timestamptz` as text; the store hands out `Date`s. The
 * conversion happens here, once per row.
 */
function withDate<T extends { lastUpdated: Date | string }>(row: T): T {
  if (typeof row.lastUpdated === 'string') row.lastUpdated = new Date(row.lastUpdated);
  return row;
}

const READ_CURRENT = `SELECT ${VERSION_COLUMNS} FROM resource WHERE resource_type = $1 AND id = $2`;
const READ_VERSION = `SELECT ${VERSION_COLUMNS} FROM resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3`;

/**
 * Reads the current version of a resource (a deleted one included), or `undefined`. The hottest
 * statement of the API: a named one, so each connection parses and plans it once.
 */
export async function readCurrent(q: Queryable, resourceType: string, id: string): Promise<StoredVersion | undefined> {
  const rows = await q.query<StoredVersion>(READ_CURRENT, [resourceType, id], { name: 'read-current' });
  return rows[0] && withDate(rows[0]);
}

/** Reads the current versions of many resources at once (missing ones are absent from the map). */
export async function readCurrentMany(
  q: Queryable, keys: { resourceType: string; id: string }[], elements?: readonly string[],
): Promise<Map<string, StoredVersion>> {
  const columns = elements ? VERSION_COLUMNS.replace('content::text AS content', `${projectedContent('resource', '$3')} AS content`) : VERSION_COLUMNS;
  const rows = await q.query<StoredVersion>(
    `SELECT ${columns} FROM resource
      WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    elements ? [keys.map((k) => k.resourceType), keys.map((k) => k.id), elements] : [keys.map((k) => k.resourceType), keys.map((k) => k.id)],
  );
  return new Map(rows.map((r) => [`${r.resourceType}/${r.id}`, withDate(r)]));
}

/** Reads one past or current version, or `undefined`. */
export async function readVersion(q: Queryable, resourceType: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
  const rows = await q.query<StoredVersion>(READ_VERSION, [resourceType, id, versionId], { name: 'read-version' });
  return rows[0] && withDate(rows[0]);
}

/**
 * Locks the named resources until the transaction ends and returns their current state, in one
 * round trip (`fhirgraph_lock_resources`, migration 0011, reads after the locks are granted).
 * Keys are locked in a fixed order (advisory locks on a hash of `type/id`, which also cover
 * resources that do not exist yet), so concurrent transactions cannot deadlock on each other.
 */
export async function lockResources(tx: Queryable, keys: { resourceType: string; id: string }[]): Promise<Map<string, CurrentState>> {
  if (keys.length === 0) return new Map();
  const rows = await tx.query<{ key: string; versionId: number; deleted: boolean; createdBy: string | null }>(
    `SELECT key, version_id AS "versionId", deleted, created_by AS "createdBy" FROM fhirgraph_lock_resources($1::text[], $2::text[], $3::text[])`,
    [lockOrder(keys), keys.map((k) => k.resourceType), keys.map((k) => k.id)],
    { name: 'fg_lock_resources' },
  );
  return new Map(rows.map((r) => [r.key, { versionId: r.versionId, deleted: r.deleted, createdBy: r.createdBy }]));
}

/**
 * The current state of the named resources as {@link lockResources} returns it, but without
 * taking their locks: for a write whose statement takes them itself (`writeVersions` with
 * `lockFirst`), which then fails with {@link StaleStateError} if a state changed meanwhile.
 */
export async function readStates(q: Queryable, keys: { resourceType: string; id: string }[]): Promise<Map<string, CurrentState>> {
  if (keys.length === 0) return new Map();
  const rows = await q.query<{ key: string; versionId: number; deleted: boolean; createdBy: string | null }>(
    `SELECT r.resource_type || '/' || r.id AS key, r.version_id AS "versionId", r.deleted, r.created_by AS "createdBy" FROM resource r
      WHERE (r.resource_type, r.id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [keys.map((k) => k.resourceType), keys.map((k) => k.id)],
    { name: 'fg_read_states' },
  );
  return new Map(rows.map((r) => [r.key, { versionId: r.versionId, deleted: r.deleted, createdBy: r.createdBy }]));
}

/** The advisory lock names of `keys` (`type/id`), once each, in the one order every locker takes them. */
function lockOrder(keys: { resourceType: string; id: string }[]): string[] {
  return [...new Set(keys.map((k) => `${k.resourceType}/${k.id}`))].sort();
}

/**
 * Takes the write locks of {@link lockResources} (the same advisory locks, in the same sorted
 * order) without reading anything. A lock the transaction already holds is taken again at no
 * cost, so a later step of a write (booking the Slots an Appointment references) may lock more
 * resources; it waits for no one but the writers of those same resources.
 */
export async function lockResourceKeys(tx: Queryable, keys: { resourceType: string; id: string }[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
    [lockOrder(keys)],
    { name: 'fg_lock_keys' },
  );
}

/** How {@link writeVersions} ends the caller's write. */
export interface WriteVersionsOptions {
  /**
   * The request's own AuditEvent, stored by the statement that writes the last chunk (alone when
   * there is no version to write), so the event exists exactly when the write does and costs no
   * round trip of its own.
   */
  audit?: AuditEventInsert;
  /** The caller's transaction sends no statement after these ({@link QueryOptions.last}). */
  last?: boolean;
  /**
   * The versions were planned from {@link readStates}, without locks: the statement takes the
   * write locks of {@link lockResources} before it writes anything, and a version another writer
   * stored first (its history row exists: the primary key refuses a second one) fails it as a
   * whole with {@link StaleStateError}. Only for a write that is one statement.
   */
  lockFirst?: boolean;
}

/**
 * Persists new versions: upserts the current rows, appends history, replaces the search index
 * rows and appends one change event per published version (never an AuditEvent) to the outbox,
 * all in the caller's transaction and in one statement per chunk; a large transaction's versions
 * in chunks of about a megabyte, between which the event loop runs.
 */
export async function writeVersions(tx: Queryable, versions: VersionToWrite[], options: WriteVersionsOptions = {}): Promise<void> {
  const { audit, last, lockFirst = false } = options;
  // AuditEvents (an admin client's, posted) live in the audit trail's own table (audit-repository.ts).
  if (versions.some((v) => v.resourceType === 'AuditEvent')) {
    const audits = versions.filter((v) => v.resourceType === 'AuditEvent' && !v.deleted && v.content !== null);
    await insertPostedAuditEvents(tx, audits.map((v) => ({ id: v.id, lastUpdated: v.lastUpdated, content: v.content! })));
    versions = versions.filter((v) => v.resourceType !== 'AuditEvent');
  }
  const chunks = chunksOf(versions);
  invariant(!lockFirst || chunks.length <= 1, 'A write planned without locks must be one statement');
  if (chunks.length === 0) {
    if (audit) await insertAuditEvents(tx, [audit], { last });
    return;
  }
  for (const [i, chunk] of chunks.entries()) {
    const final = i === chunks.length - 1;
    await writeChunk(tx, chunk, { audit: final ? audit : undefined, last: final && last === true, lockFirst });
  }
}

/**
 * How much one chunk of versions may hold: characters of content, an index row counted as
 * {@link INDEX_ROW_WEIGHT}. A chunk's index rows and version facts are serialised to JSON in one
 * go; a write of ordinary size is one chunk.
 */
const CHUNK_WEIGHT = 1 << 20;
const INDEX_ROW_WEIGHT = 64;

/** `versions` in order, cut into chunks of at most {@link CHUNK_WEIGHT} (a larger single version alone). */
function chunksOf(versions: VersionToWrite[]): VersionToWrite[][] {
  const chunks: VersionToWrite[][] = [];
  let current: VersionToWrite[] = [];
  let weight = 0;
  for (const version of versions) {
    const own = (version.content?.length ?? 0) + version.indexRows.length * INDEX_ROW_WEIGHT;
    if (current.length > 0 && weight + own > CHUNK_WEIGHT) {
      chunks.push(current);
      current = [];
      weight = 0;
    }
    current.push(version);
    weight += own;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The one statement that writes a chunk: `$1` the versions' facts (`json_to_recordset`), `$2` a
 * JSON array of their contents (each content is already JSON text, so the array is their
 * concatenation: nothing is escaped or re-serialised, and a `json` column keeps each text as
 * written), then the index rows ({@link indexWriteCtes}), then the request's own AuditEvent
 * (`[]` for none, {@link auditInsertSql}); the last parameter names the locks to take first (`{}`
 * when the caller's transaction holds them already): every CTE that writes a resource's rows
 * reads `v`, whose rows exist only once `lk` has taken them. Data-modifying CTEs all run to
 * completion; `ORDER BY n` keeps history and change events in the order of the versions.
 */
const WRITE_VERSIONS_SQL = `WITH lk AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
      FROM unnest($${4 + INDEX_PARAM_COUNT}::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n),
  v AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json)
      AS v(n int, rt text, id text, vid int, t timestamptz, del bool, method text, action text, cb text, pub bool, rep bool)
      WHERE (SELECT count(*) FROM lk) >= 0),
  c AS (SELECT n::int AS n, CASE WHEN json_typeof(e) = 'null' THEN NULL ELSE e END AS content
      FROM json_array_elements($2::json) WITH ORDINALITY AS c(e, n)),
  r AS (INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content, created_by)
    SELECT v.rt, v.id, v.vid, v.t, v.del, c.content, v.cb FROM v JOIN c USING (n) ORDER BY n
    ON CONFLICT (resource_type, id) DO UPDATE SET version_id = excluded.version_id,
      last_updated = excluded.last_updated, deleted = excluded.deleted, content = excluded.content,
      created_by = coalesce(resource.created_by, excluded.created_by)),
  h AS (INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, content)
    SELECT v.rt, v.id, v.vid, v.t, v.del, v.method, c.content FROM v JOIN c USING (n) ORDER BY n),
  e AS (INSERT INTO change_event (resource_type, id, version_id, action)
    SELECT rt, id, vid, action FROM v WHERE pub ORDER BY n),
  ${indexWriteCtes('v', 3)},
  a AS (${auditInsertSql(`$${3 + INDEX_PARAM_COUNT}`)})
  SELECT 1`;

/** Writes one chunk of versions in one statement (resources, history, change events, index rows, the AuditEvent if given). */
async function writeChunk(
  tx: Queryable, versions: VersionToWrite[], options: { audit: AuditEventInsert | undefined; last: boolean; lockFirst: boolean },
): Promise<void> {
  const { audit, last, lockFirst } = options;
  let published = false;
  const facts = versions.map((v, n) => {
    const pub = v.emitChange !== false && v.resourceType !== 'AuditEvent'; // DECISIONS.md §3
    published ||= pub;
    return {
      n: n + 1, rt: v.resourceType, id: v.id, vid: v.versionId, t: v.lastUpdated.toISOString(), del: v.deleted,
      method: v.method, action: v.action, cb: v.createdBy ?? null, pub, rep: v.action !== 'create',
    };
  });
  const contents = `[${versions.map((v) => v.content ?? 'null').join(',')}]`;
  const index = indexWriteParams(versions.map((v) => ({ resourceType: v.resourceType, id: v.id, rows: v.deleted ? null : v.indexRows, replace: v.action !== 'create' })));
  if (published) tx.noteChangeEvents?.();
  const audits = audit ? JSON.stringify([audit]) : '[]';
  const locks = lockFirst ? lockOrder(versions) : [];
  try {
    await tx.query(WRITE_VERSIONS_SQL, [JSON.stringify(facts), contents, ...index, audits, locks], { name: 'fg_write_versions', last });
  } catch (err) {
    // A unique violation here is a history row another writer stored first (nothing else is unique).
    if (lockFirst && (err as { code?: string }).code === '23505') throw new StaleStateError();
    throw err;
  }
}

/** Which history to page through, newest first. */
export interface HistoryQuery {
  resourceType?: string;
  /** System level: only these types (undefined: every type). */
  resourceTypes?: string[];
  id?: string;
  /** Only versions written at or after this instant. */
  since?: Date;
  /**
   * `_at`: only versions current at some point of this inclusive range of ISO instants, those
   * written at or before its end and not replaced by their next version at or before its start.
   */
  at?: { low: string; high: string };
  /** Keyset cursor: only versions older than this `seq`. */
  beforeSeq?: string;
  /** Keyset cursor for the previous page: only versions newer than this `seq`. */
  afterSeq?: string;
  limit: number;
}

/**
 * Pages through history by `seq` (a keyset, so deep pages cost what the first one does): newest
 * first, or oldest first after `afterSeq` (the previous page, which the caller reverses).
 */
export async function readHistory(q: Queryable, query: HistoryQuery): Promise<HistoryVersion[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (query.resourceType) add('resource_type = ?', query.resourceType);
  if (query.resourceTypes) add('resource_type = ANY(?::text[])', query.resourceTypes);
  if (query.id) add('id = ?', query.id);
  if (query.since) add('last_updated >= ?', query.since.toISOString());
  if (query.at) {
    add('last_updated <= ?', query.at.high);
    add(`NOT EXISTS (SELECT 1 FROM resource_history n WHERE n.resource_type = resource_history.resource_type
      AND n.id = resource_history.id AND n.version_id = resource_history.version_id + 1 AND n.last_updated <= ?)`, query.at.low);
  }
  if (query.beforeSeq) add('seq < ?', query.beforeSeq);
  if (query.afterSeq) add('seq > ?', query.afterSeq);
  params.push(query.limit);
  const order = query.afterSeq ? 'ASC' : 'DESC';
  const rows = await q.query<HistoryVersion>(
    `SELECT ${VERSION_COLUMNS}, seq::text AS seq, method FROM resource_history
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY resource_history.seq ${order} LIMIT $${params.length}`,
    params,
  );
  rows.forEach(withDate);
  return rows;
}

/** Counts the versions of one resource (the instance history's `total`). */
export async function countVersions(q: Queryable, resourceType: string, id: string): Promise<number> {
  const rows = await q.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM resource_history WHERE resource_type = $1 AND id = $2',
    [resourceType, id],
  );
  return rows[0]?.n ?? 0;
}
