/**
 * The resource store: current versions, full history, outgoing references and the change-feed
 * outbox. Every column a hot path filters on is indexed; `resource` is keyed by (type, id) so a
 * read by id is one index probe at any table size.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0001ResourceStore extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE resource (
        resource_type text NOT NULL,
        id text NOT NULL,
        version_id integer NOT NULL,
        last_updated timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        content json,
        PRIMARY KEY (resource_type, id)
      )`);
    this.addSql(`CREATE INDEX resource_type_updated_idx ON resource (resource_type, last_updated, id)`);
    this.addSql(`
      CREATE TABLE resource_history (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        resource_type text NOT NULL,
        id text NOT NULL,
        version_id integer NOT NULL,
        last_updated timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        method text NOT NULL,
        content json,
        PRIMARY KEY (resource_type, id, version_id)
      )`);
    this.addSql(`CREATE UNIQUE INDEX resource_history_seq_idx ON resource_history (seq)`);
    this.addSql(`CREATE INDEX resource_history_type_seq_idx ON resource_history (resource_type, seq)`);
    this.addSql(`
      CREATE TABLE change_event (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        resource_type text NOT NULL,
        id text NOT NULL,
        version_id integer NOT NULL,
        action text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`CREATE INDEX change_event_txid_idx ON change_event (txid, seq)`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS change_event, resource_history, resource');
  }
}
