/**
 * Shared rate-limit counters (DECISIONS.md §7): one row per key, fixed window and server process,
 * holding how many requests that process accepted in that window (`count`) and how many it may
 * accept before it next syncs (`claim`). Each process writes only its own rows, so processes never
 * wait on each other's row locks, and reads the others' rows (src/auth/rate-limiter.ts).
 * UNLOGGED: the rows live for two minutes at most, so losing them in a crash costs nothing, and
 * skipping the WAL makes the writes cheaper.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0003RateLimit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE UNLOGGED TABLE rate_limit_counter (
        key text NOT NULL,
        window_size smallint NOT NULL,
        window_start bigint NOT NULL,
        owner text NOT NULL,
        count integer NOT NULL,
        claim integer NOT NULL,
        PRIMARY KEY (key, window_size, window_start, owner)
      )`);
    this.addSql(`CREATE INDEX rate_limit_counter_window_start_idx ON rate_limit_counter (window_start)`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS rate_limit_counter');
  }
}
