/**
 * Indexes that let a search walk its matches in id order (src/search/sql/id-walk-query.ts), so a
 * page of 20 stops after 20 matches however many there are:
 * - `search_date_walk_idx` (type, param, resource_id) carrying low and high, and
 *   `search_string_walk_idx` carrying `norm`: every date test, string prefix and `:contains` is
 *   checked inside the index while it is read in id order;
 * - `search_token_match_idx` rebuilt as (type, param, code, resource_id) carrying `system`: a
 *   code's rows are in id order whether or not the search names the system (with `system` before
 *   `resource_id`, `category=laboratory` had to sort every laboratory Observation).
 * And statistics on the (type, param) pairs: PostgreSQL otherwise multiplies the frequency of a
 * type by that of a parameter as if they were independent and expects 10–100 times too few rows.
 */
import { Migration } from '@mikro-orm/migrations';

const TABLES = ['search_string', 'search_token', 'search_date', 'search_number', 'search_quantity', 'search_reference', 'search_uri', 'search_composite'];

export class Migration0012SearchWalkIndexes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE INDEX search_date_walk_idx ON search_date (resource_type, param, resource_id) INCLUDE (low, high)`);
    this.addSql(`CREATE INDEX search_string_walk_idx ON search_string (resource_type, param, resource_id) INCLUDE (norm)`);
    this.addSql(`DROP INDEX search_token_match_idx`);
    this.addSql(`CREATE INDEX search_token_match_idx ON search_token (resource_type, param, code, resource_id) INCLUDE (system)`);
    for (const table of TABLES) this.addSql(`CREATE STATISTICS ${table}_param_stats (mcv, dependencies) ON resource_type, param FROM ${table}`);
    this.addSql(`CREATE STATISTICS search_token_code_stats (mcv, dependencies) ON resource_type, param, code FROM search_token`);
  }

  override async down(): Promise<void> {
    this.addSql(`DROP STATISTICS IF EXISTS search_token_code_stats`);
    for (const table of TABLES) this.addSql(`DROP STATISTICS IF EXISTS ${table}_param_stats`);
    this.addSql(`DROP INDEX search_token_match_idx`);
    this.addSql(`CREATE INDEX search_token_match_idx ON search_token (resource_type, param, code, system, resource_id)`);
    this.addSql(`DROP INDEX search_string_walk_idx`);
    this.addSql(`DROP INDEX search_date_walk_idx`);
  }
}
