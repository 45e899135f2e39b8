/**
 * The change feed (src/changes/README.md): each `change_event` gets a feed `position` once it is
 * committed, stamped by the sequencer in the order rows become visible to it, so readers page by
 * `position` and never skip a transaction that committed late. `change_feed_state` holds the last
 * position handed out (`head`, never reused, even when retention empties the table) and how far
 * retention has pruned (`pruned_through`, so a cursor older than that is known to be expired);
 * `change_cursor` holds the durable cursors of server-side consumers (the webhook dispatcher),
 * below which retention never prunes. Nothing reads `txid` by index, so its index goes.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0006ChangeFeed extends Migration {
  override async up(): Promise<void> {
    this.addSql(`ALTER TABLE change_event ADD COLUMN position bigint`);
    this.addSql(`CREATE UNIQUE INDEX change_event_position_idx ON change_event (position)`);
    // Small by construction: only rows written since the sequencer's last round.
    this.addSql(`CREATE INDEX change_event_unstamped_idx ON change_event (seq) WHERE position IS NULL`);
    this.addSql(`DROP INDEX IF EXISTS change_event_txid_idx`);
    this.addSql(`
      CREATE TABLE change_feed_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        head bigint NOT NULL DEFAULT 0,
        pruned_through bigint NOT NULL DEFAULT 0
      )`);
    this.addSql(`INSERT INTO change_feed_state DEFAULT VALUES`);
    // Events written before this migration: stamped now, in seq order (the feed starts here).
    this.addSql(`UPDATE change_event c SET position = n.n FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM change_event) n WHERE c.seq = n.seq`);
    this.addSql(`UPDATE change_feed_state SET head = (SELECT coalesce(max(position), 0) FROM change_event)`);
    this.addSql(`
      CREATE TABLE change_cursor (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS change_cursor, change_feed_state');
    this.addSql('DROP INDEX IF EXISTS change_event_unstamped_idx');
    this.addSql('ALTER TABLE change_event DROP COLUMN IF EXISTS position');
    this.addSql('CREATE INDEX IF NOT EXISTS change_event_txid_idx ON change_event (txid, seq)');
  }
}
