/**
 * Binary content as bytes (DECISIONS.md §3, issue 17): a `Binary`'s `data` is kept out of its
 * resource JSON, in `bytea` chunks of a content blob (`binary_chunk`, keyed by blob and chunk
 * number, stored uncompressed: most uploads are compressed formats already), and each stored
 * version of a Binary names its blob and size (`binary_content`), so a vread of an old version
 * returns the old bytes and a PATCH that leaves `data` alone shares its version's blob instead of
 * copying it. Binaries stored before this migration have their `data` moved out of their JSON,
 * in every version.
 */
import { Migration } from '@mikro-orm/migrations';

/** The chunk size of `binary-store.ts` (48 KiB, a multiple of 3 so each chunk is whole base64). */
const CHUNK = 49_152;

export class Migration0008BinaryContent extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE binary_chunk (
        blob_id uuid NOT NULL,
        chunk_no integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (blob_id, chunk_no)
      )`);
    this.addSql(`ALTER TABLE binary_chunk ALTER COLUMN data SET STORAGE EXTERNAL`);
    this.addSql(`
      CREATE TABLE binary_content (
        id text NOT NULL,
        version_id integer NOT NULL,
        blob_id uuid NOT NULL,
        size bigint NOT NULL,
        PRIMARY KEY (id, version_id)
      )`);
    this.addSql(`CREATE INDEX binary_content_blob_idx ON binary_content (blob_id)`);
    // Binaries written before: their data, every version, into chunks; then out of their JSON.
    this.addSql(`
      INSERT INTO binary_content (id, version_id, blob_id, size)
      SELECT id, version_id, gen_random_uuid(), octet_length(decode(content->>'data', 'base64'))
        FROM resource_history
       WHERE resource_type = 'Binary' AND json_typeof(content->'data') = 'string'`);
    this.addSql(`
      INSERT INTO binary_chunk (blob_id, chunk_no, data)
      SELECT c.blob_id, g.n, substring(decode(h.content->>'data', 'base64') FROM g.n * ${CHUNK} + 1 FOR ${CHUNK})
        FROM binary_content c
        JOIN resource_history h ON h.resource_type = 'Binary' AND h.id = c.id AND h.version_id = c.version_id
        CROSS JOIN LATERAL generate_series(0, ((c.size - 1) / ${CHUNK})::int) AS g(n)
       WHERE c.size > 0`);
    for (const table of ['resource_history', 'resource']) {
      this.addSql(`
        UPDATE ${table} t
           SET content = (SELECT json_object_agg(e.key, e.value) FROM json_each(t.content) e WHERE e.key <> 'data')
         WHERE t.resource_type = 'Binary' AND json_typeof(t.content->'data') = 'string'`);
    }
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS binary_content, binary_chunk');
  }
}
