/**
 * The audit trail's own storage (issue 18, DECISIONS.md §11): `audit_event`, an append-only table
 * partitioned by month on `recorded`, with just the columns AuditEvent searches and the
 * projection need, instead of a full FHIR resource per request (a resource row, a history row and
 * a dozen search-index rows). Retention is a `DROP TABLE` of a month's partition.
 *
 * Rows the server records hold the facts of the request (client, ip, status, description,
 * entities) and are projected as FHIR AuditEvent on read; an AuditEvent an admin client posts,
 * and every AuditEvent already stored when this migration runs, keeps its JSON in `content`,
 * with the searched columns extracted from it.
 *
 * `audit_event_ensure_partition(month)` creates the partition of one month (moving any rows the
 * DEFAULT partition holds for it, so creating one never fails); `audit_event_drop_before(cutoff)`
 * drops the partitions that end at or before `cutoff`. The server calls both periodically
 * (src/service/audit/audit-partitions.ts).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0010AuditEventTable extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE TABLE audit_event (
        id text NOT NULL,
        recorded timestamptz NOT NULL,
        last_updated timestamptz,
        action text,
        interaction text,
        outcome text,
        type_system text,
        type_code text,
        subtype_system text,
        subtype_code text,
        client_id text,
        claimed_client_id text,
        client_name text,
        ip text,
        description text,
        entities text[] NOT NULL DEFAULT '{}',
        entity_detail jsonb,
        query text,
        content jsonb
      ) PARTITION BY RANGE (recorded)`);
    this.addSql(`CREATE INDEX audit_event_id_idx ON audit_event (id)`);
    this.addSql(`CREATE INDEX audit_event_recorded_idx ON audit_event (recorded, id)`);
    this.addSql(`CREATE INDEX audit_event_entities_idx ON audit_event USING gin (entities)`);
    this.addSql(`CREATE INDEX audit_event_client_idx ON audit_event (client_id, recorded) WHERE client_id IS NOT NULL`);
    this.addSql(`CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT`);

    this.addSql(`
      CREATE FUNCTION audit_event_ensure_partition(month date) RETURNS void LANGUAGE plpgsql AS $fn$
      DECLARE
        name text := 'audit_event_p' || to_char(date_trunc('month', month::timestamp), 'YYYYMM');
        low timestamptz := (date_trunc('month', month::timestamp)::timestamp AT TIME ZONE 'UTC');
        high timestamptz := ((date_trunc('month', month::timestamp) + interval '1 month')::timestamp AT TIME ZONE 'UTC');
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('audit_event_partitions'));
        IF to_regclass(name) IS NOT NULL THEN RETURN; END IF;
        EXECUTE format('CREATE TABLE %I (LIKE audit_event INCLUDING DEFAULTS)', name);
        EXECUTE format('WITH moved AS (DELETE FROM audit_event_default WHERE recorded >= $1 AND recorded < $2 RETURNING *)
          INSERT INTO %I SELECT * FROM moved', name) USING low, high;
        EXECUTE format('ALTER TABLE audit_event ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, low, high);
      END
      $fn$`);
    this.addSql(`
      CREATE FUNCTION audit_event_drop_before(cutoff timestamptz) RETURNS integer LANGUAGE plpgsql AS $fn$
      DECLARE
        part record;
        dropped integer := 0;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('audit_event_partitions'));
        FOR part IN
          SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'audit_event'::regclass AND c.relname ~ '^audit_event_p[0-9]{6}$'
        LOOP
          IF ((to_date(substr(part.relname, 14), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped + 1;
          END IF;
        END LOOP;
        RETURN dropped;
      END
      $fn$`);

    // A partition for every month the stored AuditEvents fall in, and this month and the next.
    this.addSql(`
      SELECT audit_event_ensure_partition(m::date) FROM (
        SELECT DISTINCT date_trunc('month', (content::jsonb ->> 'recorded')::timestamptz AT TIME ZONE 'UTC') AS m
          FROM resource WHERE resource_type = 'AuditEvent' AND NOT deleted AND content::jsonb ->> 'recorded' IS NOT NULL
        UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC')
        UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'
      ) months`);
    this.addSql(`
      INSERT INTO audit_event (id, recorded, last_updated, action, outcome, type_system, type_code, subtype_system, subtype_code,
          client_id, entities, content)
        SELECT r.id, coalesce((c ->> 'recorded')::timestamptz, r.last_updated), r.last_updated, c ->> 'action', c ->> 'outcome',
          c -> 'type' ->> 'system', c -> 'type' ->> 'code', c -> 'subtype' -> 0 ->> 'system', c -> 'subtype' -> 0 ->> 'code',
          coalesce(c -> 'agent' -> 0 -> 'who' -> 'identifier' ->> 'value', c -> 'agent' -> 0 -> 'who' ->> 'reference'),
          ARRAY(SELECT e -> 'what' ->> 'reference' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c -> 'entity') = 'array' THEN c -> 'entity' ELSE '[]' END) e
                 WHERE e -> 'what' ->> 'reference' IS NOT NULL),
          c
        FROM resource r CROSS JOIN LATERAL (SELECT r.content::jsonb AS c) j
       WHERE r.resource_type = 'AuditEvent' AND NOT r.deleted`);
    for (const table of ['search_string', 'search_token', 'search_date', 'search_number', 'search_quantity', 'search_reference', 'search_uri', 'search_composite']) {
      this.addSql(`DELETE FROM ${table} WHERE resource_type = 'AuditEvent'`);
    }
    this.addSql(`DELETE FROM resource_history WHERE resource_type = 'AuditEvent'`);
    this.addSql(`DELETE FROM resource WHERE resource_type = 'AuditEvent'`);
  }

  override async down(): Promise<void> {
    this.addSql(`DROP TABLE IF EXISTS audit_event`);
    this.addSql(`DROP FUNCTION IF EXISTS audit_event_ensure_partition(date)`);
    this.addSql(`DROP FUNCTION IF EXISTS audit_event_drop_before(timestamptz)`);
  }
}
