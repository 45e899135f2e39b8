/**
 * The OAuth2 layer's tables: clients, refresh tokens (hashes only), the server's signing keys,
 * the replay store of client-assertion `jti`s, the revocation list of access tokens, and the
 * creating client of each resource (for the ownership rule on DocumentReference and Binary).
 * `change_seq` lets every process poll "what changed since" cheaply (DECISIONS.md §7).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0002Oauth extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE SEQUENCE auth_change_seq`);
    this.addSql(`
      CREATE TABLE oauth_client (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        scope text NOT NULL,
        jwks jsonb,
        admin boolean NOT NULL DEFAULT false,
        rate_per_second integer,
        rate_per_minute integer,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        created_at timestamptz NOT NULL DEFAULT now(),
        change_seq bigint NOT NULL DEFAULT nextval('auth_change_seq')
      )`);
    this.addSql(`CREATE INDEX oauth_client_change_idx ON oauth_client (change_seq)`);
    this.addSql(`
      CREATE TABLE oauth_refresh_token (
        token_hash text PRIMARY KEY,
        client_id text NOT NULL REFERENCES oauth_client (client_id),
        scope text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    this.addSql(`CREATE INDEX oauth_refresh_token_client_idx ON oauth_refresh_token (client_id)`);
    this.addSql(`
      CREATE TABLE oauth_signing_key (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        private_jwk jsonb NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        retired_at timestamptz
      )`);
    this.addSql(`
      CREATE TABLE oauth_assertion_jti (
        client_id text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (client_id, jti)
      )`);
    this.addSql(`CREATE INDEX oauth_assertion_jti_expiry_idx ON oauth_assertion_jti (expires_at)`);
    this.addSql(`
      CREATE TABLE oauth_revoked_access_token (
        jti text PRIMARY KEY,
        expires_at timestamptz NOT NULL,
        change_seq bigint NOT NULL DEFAULT nextval('auth_change_seq')
      )`);
    this.addSql(`CREATE INDEX oauth_revoked_access_token_change_idx ON oauth_revoked_access_token (change_seq)`);
    this.addSql(`ALTER TABLE resource ADD COLUMN created_by text`);
  }

  override async down(): Promise<void> {
    this.addSql('ALTER TABLE resource DROP COLUMN IF EXISTS created_by');
    this.addSql('DROP TABLE IF EXISTS oauth_revoked_access_token, oauth_assertion_jti, oauth_signing_key, oauth_refresh_token, oauth_client');
    this.addSql('DROP SEQUENCE IF EXISTS auth_change_seq');
  }
}
