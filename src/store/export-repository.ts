/**
 * SQL of Bulk Data exports (migration 0009): the job with its request, snapshot and checkpoint,
 * its files, and their NDJSON chunks. A chunk is built and stored by PostgreSQL itself (one
 * `INSERT … SELECT` over an export page, src/search/sql/build-export-page.ts), so resources never
 * pass through the server process while they are exported; downloads read one chunk at a time.
 * https://hl7.org/fhir/uv/bulkdata/export.html
 */
import type { Queryable } from './database.ts';

/** Where an export stands (`cancelled` and expired exports are deleted, not kept). */
export type ExportStatus = 'accepted' | 'in-progress' | 'completed' | 'failed';
/** The kick-off's level: `/fhir/$export`, `/fhir/Patient/$export`, `/fhir/Group/{id}/$export`. */
export type ExportLevel = 'system' | 'patient' | 'group';

/** What a kick-off records. */
export interface NewExportJob {
  id: string;
  clientId: string;
  request: string;
  level: ExportLevel;
  groupId?: string;
  /** Group-level: the member patients' ids. */
  patientIds?: string[];
  /** The types exported, in order. */
  types: string[];
  /** `_typeFilter` queries by type (`Observation` → [`status=final`]). */
  typeFilters: Record<string, string[]>;
  since?: Date;
  /** Types left out because the token may not read them (reported in the manifest's `error`). */
  leftOut: string[];
  retentionMs: number;
}

/** An export as stored. */
export interface ExportJob {
  id: string;
  clientId: string;
  status: ExportStatus;
  request: string;
  level: ExportLevel;
  groupId: string | null;
  patientIds: string[] | null;
  types: string[];
  typeFilters: Record<string, string[]>;
  since: Date | null;
  transactionTime: Date;
  kickoffSnapshot: string;
  leftOut: string[];
  /** The checkpoint: the type being exported, the last id written, the open file and its lines. */
  typeIndex: number;
  afterId: string;
  fileNo: number;
  fileLines: number;
  exported: number;
  step: number;
  failures: number;
  error: string | null;
  expiresAt: Date;
}

/** One file of an export's manifest. */
export interface ExportFile {
  fileNo: number;
  resourceType: string;
  kind: 'output' | 'error';
  lineCount: number;
}

const JOB_COLUMNS = `id, client_id AS "clientId", status, request, level, group_id AS "groupId", patient_ids AS "patientIds",
  types, type_filters AS "typeFilters", since, transaction_time AS "transactionTime", kickoff_snapshot::text AS "kickoffSnapshot",
  left_out AS "leftOut", type_index AS "typeIndex", after_id AS "afterId", file_no AS "fileNo", file_lines::int AS "fileLines",
  exported::float8 AS exported, step::float8 AS step, failures, error, expires_at AS "expiresAt"`;

/** Records a kick-off; its `transactionTime` is the database's time, its snapshot the transactions in flight. */
export async function createExportJob(tx: Queryable, job: NewExportJob): Promise<ExportJob> {
  const [row] = await tx.query<ExportJob>(
    `INSERT INTO export_job (id, client_id, status, request, level, group_id, patient_ids, types, type_filters, since,
       transaction_time, kickoff_snapshot, left_out, expires_at)
     VALUES ($1, $2, 'accepted', $3, $4, $5, $6, $7, $8, $9, now(), pg_current_snapshot(), $10, now() + $11 * interval '1 millisecond')
     RETURNING ${JOB_COLUMNS}`,
    [job.id, job.clientId, job.request, job.level, job.groupId ?? null, job.patientIds ?? null, job.types, JSON.stringify(job.typeFilters),
      job.since?.toISOString() ?? null, job.leftOut, job.retentionMs],
  );
  return row;
}

/** Exports of `clientId` accepted or running (for `EXPORT_MAX_PER_CLIENT`). */
export async function countRunningExports(q: Queryable, clientId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM export_job WHERE client_id = $1 AND status IN ('accepted', 'in-progress') AND expires_at > now()`, [clientId]);
  return row.n;
}

/** An export by id (and, when given, only if `clientId` started it). */
export async function readExportJob(q: Queryable, id: string, clientId?: string): Promise<ExportJob | undefined> {
  const rows = await q.query<ExportJob>(
    `SELECT ${JOB_COLUMNS} FROM export_job WHERE id = $1 AND ($2::text IS NULL OR client_id = $2) AND expires_at > now()`, [id, clientId ?? null]);
  return rows[0];
}

/** The files of an export, in order. */
export async function listExportFiles(q: Queryable, id: string): Promise<ExportFile[]> {
  return q.query<ExportFile>(
    `SELECT file_no AS "fileNo", resource_type AS "resourceType", kind, line_count::float8 AS "lineCount"
       FROM export_file WHERE job_id = $1 ORDER BY file_no`, [id]);
}

/** One file of an export, if `clientId` started it and it has completed. */
export async function readCompletedExportFile(q: Queryable, id: string, clientId: string, fileNo: number): Promise<ExportFile | undefined> {
  const rows = await q.query<ExportFile>(
    `SELECT f.file_no AS "fileNo", f.resource_type AS "resourceType", f.kind, f.line_count::float8 AS "lineCount"
       FROM export_file f JOIN export_job j ON j.id = f.job_id
      WHERE f.job_id = $1 AND f.file_no = $2 AND j.client_id = $3 AND j.status = 'completed' AND j.expires_at > now()`, [id, fileNo, clientId]);
  return rows[0];
}

/** The chunks of a file after `afterChunk` (numbers and lengths in bytes), at most `limit`, in order. */
export async function listExportChunks(q: Queryable, id: string, fileNo: number, afterChunk: number, limit: number): Promise<{ chunkNo: number; length: number }[]> {
  return q.query<{ chunkNo: number; length: number }>(
    `SELECT chunk_no AS "chunkNo", octet_length(content) AS length FROM export_chunk
      WHERE job_id = $1 AND file_no = $2 AND chunk_no > $3 ORDER BY chunk_no LIMIT $4`,
    [id, fileNo, afterChunk, limit]);
}

/**
 * A piece of a chunk: `length` bytes from `start` (1-based). Chunks are stored uncompressed
 * (`STORAGE EXTERNAL`), so PostgreSQL reads only the slice asked for; a download holds a piece at
 * a time, small enough for the young generation of the JavaScript heap.
 */
export async function readExportChunkPiece(q: Queryable, id: string, fileNo: number, chunkNo: number, start: number, length: number): Promise<Buffer | undefined> {
  const rows = await q.query<{ piece: Buffer }>(
    `SELECT substring(content FROM $4 FOR $5) AS piece FROM export_chunk WHERE job_id = $1 AND file_no = $2 AND chunk_no = $3`,
    [id, fileNo, chunkNo, start, length]);
  return rows[0]?.piece;
}

/** Deletes an export of `clientId` with its files; false when there was none. */
export async function deleteExportJob(q: Queryable, id: string, clientId: string): Promise<boolean> {
  const rows = await q.query(`DELETE FROM export_job WHERE id = $1 AND client_id = $2 RETURNING id`, [id, clientId]);
  return rows.length > 0;
}

/** An export as the admin API lists it: who started it, where it stands, and how far it got. */
export interface ExportJobSummary {
  id: string;
  clientId: string;
  status: ExportStatus;
  request: string;
  types: string[];
  typeIndex: number;
  exported: number;
  error: string | null;
  transactionTime: Date;
  expiresAt: Date;
}

/** Every client's exports not yet expired, newest first, at most `limit` of them. */
export async function listExportJobs(q: Queryable, limit: number): Promise<ExportJobSummary[]> {
  return q.query<ExportJobSummary>(
    `SELECT id, client_id AS "clientId", status, request, types, type_index AS "typeIndex", exported::float8 AS exported, error,
            transaction_time AS "transactionTime", expires_at AS "expiresAt"
       FROM export_job WHERE expires_at > now() ORDER BY transaction_time DESC, id LIMIT $1`, [limit]);
}

/** Deletes an export of any client with its files (an admin's cancel); false when there was none. */
export async function deleteAnyExportJob(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query(`DELETE FROM export_job WHERE id = $1 RETURNING id`, [id]);
  return rows.length > 0;
}

/** Deletes up to `limit` exports past their expiry, with their files; returns how many. */
export async function deleteExpiredExports(q: Queryable, limit: number): Promise<number> {
  const rows = await q.query(
    `DELETE FROM export_job WHERE id IN (SELECT id FROM export_job WHERE expires_at <= now() ORDER BY expires_at LIMIT $1) RETURNING id`, [limit]);
  return rows.length;
}

/**
 * How many transactions of this database that were in flight at the kick-off are still running:
 * a write that stamped its versions before `transactionTime` may commit after it, and the export
 * waits for those before it reads.
 */
export async function countInFlightAtKickoff(q: Queryable, snapshot: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity a
      WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
        AND a.backend_xid::text::bigint IN (SELECT x::text::bigint % 4294967296 FROM pg_snapshot_xip($1::pg_snapshot) x)`, [snapshot]);
  return row.n;
}

/**
 * Takes the next step of an export in `tx` (locking its row until commit) if nobody else has
 * since `step`: the step number, or undefined when the export was taken over, cancelled, expired
 * or has ended.
 */
export async function claimExportStep(tx: Queryable, id: string, step: number): Promise<number | undefined> {
  const rows = await tx.query<{ step: number }>(
    `UPDATE export_job SET step = step + 1 WHERE id = $1 AND step = $2 AND status IN ('accepted', 'in-progress') AND expires_at > now()
     RETURNING step::float8 AS step`, [id, step]);
  return rows[0]?.step;
}

/** Where a chunk goes. */
export interface ChunkTarget {
  jobId: string;
  fileNo: number;
  chunkNo: number;
  /** NDJSON bytes a chunk holds at most (one line more when a single line is larger). */
  maxBytes: number;
}

/**
 * Writes the rows of `page` (SQL selecting `id` and `content`, in id order) as one NDJSON chunk,
 * cut after the line that reaches `maxBytes`; returns its line count and last id, or undefined
 * when the page is empty.
 */
export async function writeExportChunk(tx: Queryable, target: ChunkTarget, page: { sql: string; params: unknown[] }): Promise<{ lines: number; lastId: string } | undefined> {
  const n = page.params.length;
  const rows = await tx.query<{ lines: number; lastId: string }>(
    `INSERT INTO export_chunk (job_id, file_no, chunk_no, line_count, last_id, content)
     SELECT $${n + 1}::uuid, $${n + 2}::int, $${n + 3}::int, count(*), max(id), convert_to(string_agg(content, E'\\n' ORDER BY id) || E'\\n', 'UTF8')
       FROM (SELECT id, content, sum(octet_length(content)) OVER (ORDER BY id) - octet_length(content) AS before
               FROM (${page.sql}) page) sized
      WHERE before < $${n + 4}
     HAVING count(*) > 0
     RETURNING line_count AS lines, last_id AS "lastId"`,
    [...page.params, target.jobId, target.fileNo, target.chunkNo, target.maxBytes]);
  return rows[0];
}

/** Adds `lines` to a file of an export (creating it). */
export async function addToExportFile(tx: Queryable, jobId: string, file: ExportFile): Promise<void> {
  await tx.query(
    `INSERT INTO export_file (job_id, file_no, resource_type, kind, line_count) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (job_id, file_no) DO UPDATE SET line_count = export_file.line_count + excluded.line_count`,
    [jobId, file.fileNo, file.resourceType, file.kind, file.lineCount]);
}

/** Writes a small file whole (the error file's OperationOutcome lines). */
export async function writeWholeExportFile(tx: Queryable, jobId: string, file: ExportFile, chunkNo: number, lines: string[]): Promise<void> {
  await addToExportFile(tx, jobId, file);
  await tx.query(
    `INSERT INTO export_chunk (job_id, file_no, chunk_no, line_count, last_id, content) VALUES ($1, $2, $3, $4, '', convert_to($5, 'UTF8'))`,
    [jobId, file.fileNo, chunkNo, lines.length, lines.map((l) => `${l}\n`).join('')]);
}

/** The checkpoint after a step. */
export interface ExportCheckpoint {
  typeIndex: number;
  afterId: string;
  fileNo: number;
  fileLines: number;
  exported: number;
}

/** Saves the checkpoint of the step `tx` claimed (committed with the chunk it wrote). */
export async function saveExportCheckpoint(tx: Queryable, id: string, checkpoint: ExportCheckpoint): Promise<void> {
  await tx.query(
    `UPDATE export_job SET status = 'in-progress', type_index = $2, after_id = $3, file_no = $4, file_lines = $5, exported = $6, failures = 0 WHERE id = $1`,
    [id, checkpoint.typeIndex, checkpoint.afterId, checkpoint.fileNo, checkpoint.fileLines, checkpoint.exported]);
}

/** Marks an export completed; its files are kept for `retentionMs` from now. */
export async function completeExportJob(tx: Queryable, id: string, retentionMs: number): Promise<void> {
  await tx.query(
    `UPDATE export_job SET status = 'completed', finished_at = now(), expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
    [id, retentionMs]);
}

/** Counts a failed attempt; after `maxFailures` the export is marked failed with `message`. Returns the failures so far. */
export async function recordExportFailure(q: Queryable, id: string, message: string, maxFailures: number): Promise<number> {
  const rows = await q.query<{ failures: number }>(
    `UPDATE export_job SET failures = failures + 1,
            status = CASE WHEN failures + 1 >= $3 THEN 'failed' ELSE status END,
            error = CASE WHEN failures + 1 >= $3 THEN $2 ELSE error END,
            finished_at = CASE WHEN failures + 1 >= $3 THEN now() ELSE finished_at END
      WHERE id = $1 AND status IN ('accepted', 'in-progress') RETURNING failures`, [id, message, maxFailures]);
  return rows[0]?.failures ?? maxFailures;
}
