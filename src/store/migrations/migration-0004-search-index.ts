/**
 * The search index: one table per search-parameter type, one row per indexed value of the
 * current version of each resource (https://hl7.org/fhir/R4/search.html#ptypes). Rows are
 * written in the same transaction as the resource and removed when it is deleted. Each table is
 * keyed for the query shapes of the search engine: (type, param, value…) for matching, and
 * (type, id) to replace a resource's rows. `search_reference` also serves reverse lookups
 * (`_revinclude`, `_has`, GraphQL reverse references) through its target index.
 */
import { Migration } from '@mikro-orm/migrations';

const KEY = `resource_type text NOT NULL, resource_id text NOT NULL, param text NOT NULL`;

export class Migration0004SearchIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    this.addSql(`CREATE TABLE search_string (${KEY}, value text NOT NULL, norm text COLLATE "C" NOT NULL)`);
    this.addSql(`CREATE INDEX search_string_match_idx ON search_string (resource_type, param, norm, resource_id)`);
    this.addSql(`CREATE INDEX search_string_trgm_idx ON search_string USING gin (norm gin_trgm_ops)`);
    this.addSql(`CREATE INDEX search_string_owner_idx ON search_string (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_token (${KEY}, system text, code text, text text COLLATE "C", of_type jsonb)`);
    this.addSql(`CREATE INDEX search_token_match_idx ON search_token (resource_type, param, code, system, resource_id)`);
    this.addSql(`CREATE INDEX search_token_owner_idx ON search_token (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_date (${KEY}, low timestamptz, high timestamptz)`);
    this.addSql(`CREATE INDEX search_date_low_idx ON search_date (resource_type, param, low, resource_id)`);
    this.addSql(`CREATE INDEX search_date_high_idx ON search_date (resource_type, param, high, resource_id)`);
    this.addSql(`CREATE INDEX search_date_owner_idx ON search_date (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_number (${KEY}, value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL)`);
    this.addSql(`CREATE INDEX search_number_match_idx ON search_number (resource_type, param, value, resource_id)`);
    this.addSql(`CREATE INDEX search_number_owner_idx ON search_number (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_quantity (${KEY}, value numeric NOT NULL, low numeric NOT NULL, high numeric NOT NULL,
      system text, code text, unit text)`);
    this.addSql(`CREATE INDEX search_quantity_match_idx ON search_quantity (resource_type, param, value, resource_id)`);
    this.addSql(`CREATE INDEX search_quantity_owner_idx ON search_quantity (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_reference (${KEY}, target_type text, target_id text, url text,
      identifier_system text, identifier_value text)`);
    this.addSql(`CREATE INDEX search_reference_match_idx ON search_reference (resource_type, param, target_id, target_type, resource_id)`);
    this.addSql(`CREATE INDEX search_reference_target_idx ON search_reference (target_type, target_id, resource_type, param)`);
    this.addSql(`CREATE INDEX search_reference_url_idx ON search_reference (resource_type, param, url) WHERE url IS NOT NULL`);
    this.addSql(`CREATE INDEX search_reference_owner_idx ON search_reference (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_uri (${KEY}, value text COLLATE "C" NOT NULL)`);
    this.addSql(`CREATE INDEX search_uri_match_idx ON search_uri (resource_type, param, value, resource_id)`);
    this.addSql(`CREATE INDEX search_uri_owner_idx ON search_uri (resource_type, resource_id)`);

    this.addSql(`CREATE TABLE search_composite (${KEY}, components jsonb NOT NULL)`);
    this.addSql(`CREATE INDEX search_composite_match_idx ON search_composite USING gin (components jsonb_path_ops)`);
    this.addSql(`CREATE INDEX search_composite_owner_idx ON search_composite (resource_type, resource_id)`);

    this.addSql(`CREATE INDEX resource_type_id_live_idx ON resource (resource_type, id) WHERE NOT deleted`);
  }

  override async down(): Promise<void> {
    this.addSql(`DROP TABLE IF EXISTS search_string, search_token, search_date, search_number, search_quantity,
      search_reference, search_uri, search_composite`);
  }
}
