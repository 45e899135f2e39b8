/**
 * Webhooks (FHIR `Subscription`, `channel.type = rest-hook`): the server-private side of each
 * Subscription, kept outside its resource JSON (DECISIONS.md §3) — the secret that signs its
 * deliveries, the client that created it and the scope it wrote it with (whose rights every
 * delivery checks), and its delivery state (consecutive failed attempts). `change_seq` moves on
 * every write of the Subscription, the server's own status changes included, so every process's
 * dispatcher notices a change with one cheap query. The job queue (pg-boss) keeps its own tables
 * in the `pgboss` schema and migrates them itself.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0007Webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE SEQUENCE webhook_change_seq`);
    this.addSql(`
      CREATE TABLE webhook_subscription (
        id text PRIMARY KEY,
        secret text,
        author_client_id text NOT NULL,
        author_scope text NOT NULL,
        failures integer NOT NULL DEFAULT 0,
        change_seq bigint NOT NULL DEFAULT nextval('webhook_change_seq')
      )`);
    // Subscriptions stored before webhooks existed: their creator is their author, with the
    // scope that client is allowed (their tokens' scopes were not kept).
    this.addSql(`
      INSERT INTO webhook_subscription (id, author_client_id, author_scope)
      SELECT r.id, coalesce(r.created_by, 'system'), coalesce(c.scope, CASE WHEN r.created_by IS NULL THEN 'system/*.cruds' ELSE '' END)
        FROM resource r LEFT JOIN oauth_client c ON c.client_id = r.created_by
       WHERE r.resource_type = 'Subscription'`);
  }

  override async down(): Promise<void> {
    this.addSql('DROP TABLE IF EXISTS webhook_subscription');
    this.addSql('DROP SEQUENCE IF EXISTS webhook_change_seq');
  }
}
