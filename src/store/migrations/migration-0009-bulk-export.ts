/**
 * Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html): each export's request,
 * snapshot and checkpoint (`export_job`), its files (`export_file`) and their NDJSON in chunks of
 * a few megabytes (`export_chunk`). Everything lives in PostgreSQL, so any server process sharing
 * the database answers status and downloads, and a job taken over after a crash resumes from the
 * checkpoint committed with its last chunk. Deleting a job (cancel, retention) removes its files.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0009BulkExport extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE export_job (
        id uuid PRIMARY KEY,
        client_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('accepted', 'in-progress', 'completed', 'failed')),
        request text NOT NULL,
        level text NOT NULL CHECK (level IN ('system', 'patient', 'group')),
        group_id text,
        patient_ids text[],
        types text[] NOT NULL,
        type_filters jsonb NOT NULL DEFAULT '{}',
        since timestamptz,
        transaction_time timestamptz NOT NULL,
        kickoff_snapshot pg_snapshot NOT NULL,
        left_out text[] NOT NULL DEFAULT '{}',
        type_index integer NOT NULL DEFAULT 0,
        after_id text NOT NULL DEFAULT '',
        file_no integer NOT NULL DEFAULT 0,
        file_lines bigint NOT NULL DEFAULT 0,
        exported bigint NOT NULL DEFAULT 0,
        step bigint NOT NULL DEFAULT 0,
        failures integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        expires_at timestamptz NOT NULL
      )`);
    this.addSql(`CREATE INDEX export_job_running_idx ON export_job (client_id) WHERE status IN ('accepted', 'in-progress')`);
    this.addSql(`CREATE INDEX export_job_expiry_idx ON export_job (expires_at)`);
    this.addSql(`
      CREATE TABLE export_file (
        job_id uuid NOT NULL REFERENCES export_job (id) ON DELETE CASCADE,
        file_no integer NOT NULL,
        resource_type text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('output', 'error')),
        line_count bigint NOT NULL,
        PRIMARY KEY (job_id, file_no)
      )`);
    this.addSql(`
      CREATE TABLE export_chunk (
        job_id uuid NOT NULL REFERENCES export_job (id) ON DELETE CASCADE,
        file_no integer NOT NULL,
        chunk_no integer NOT NULL,
        line_count integer NOT NULL,
        last_id text NOT NULL,
        content bytea NOT NULL,
        PRIMARY KEY (job_id, file_no, chunk_no)
      )`);
    // Chunks are written once and read a few times: compressing megabytes per transaction costs
    // more export throughput than the disk it saves; and an uncompressed bytea is read in slices
    // (a download takes a piece at a time) without PostgreSQL reading the whole value.
    this.addSql(`ALTER TABLE export_chunk ALTER COLUMN content SET STORAGE EXTERNAL`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS export_chunk, export_file, export_job');
  }
}
