/**
 * `fhirgraph_lock_resources`: the write path's lock round (`lockResources` in
 * src/store/resource-repository.ts) in one statement instead of two. It takes the advisory locks
 * of the named resources in the order given (the caller sorts them, as every locker does, so
 * transactions cannot deadlock each other), then reads their current state. The read must see
 * what the writers it waited for committed: a VOLATILE PL/pgSQL function takes a fresh snapshot
 * for each statement in READ COMMITTED, where a single SQL statement would read with the snapshot
 * it started with, before the locks were granted.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0011LockResources extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      CREATE FUNCTION fhirgraph_lock_resources(names text[], types text[], ids text[])
        RETURNS TABLE (key text, version_id integer, deleted boolean, created_by text)
        LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(names) WITH ORDINALITY AS t(k, n) ORDER BY n;
        RETURN QUERY SELECT r.resource_type || '/' || r.id, r.version_id, r.deleted, r.created_by FROM resource r
          WHERE (r.resource_type, r.id) IN (SELECT * FROM unnest(types, ids));
      END
      $fn$`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP FUNCTION IF EXISTS fhirgraph_lock_resources(text[], text[], text[])');
  }
}
