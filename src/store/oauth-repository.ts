/**
 * SQL of the OAuth2 layer: clients, refresh-token hashes, the server's signing keys, the replay
 * store of client-assertion `jti`s and the access-token revocation list. Secrets never reach this
 * layer in clear: refresh tokens arrive hashed.
 */
import type { Queryable } from './database.ts';

export type ClientStatus = 'active' | 'disabled';

/** A registered client as the auth layer sees it. */
export interface ClientRecord {
  clientId: string;
  name: string;
  /** Allowed scopes, space-separated. */
  scope: string;
  /** The client's public JWKS (SMART Backend Services clients), else null. */
  jwks: { keys: Record<string, unknown>[] } | null;
  admin: boolean;
  ratePerSecond: number | null;
  ratePerMinute: number | null;
  status: ClientStatus;
  changeSeq: string;
}

const CLIENT_COLUMNS = `client_id AS "clientId", name, scope, jwks, admin, rate_per_second AS "ratePerSecond",
  rate_per_minute AS "ratePerMinute", status, change_seq::text AS "changeSeq"`;

export async function insertClient(q: Queryable, client: Omit<ClientRecord, 'status' | 'changeSeq'>): Promise<ClientRecord> {
  const rows = await q.query<ClientRecord>(
    `INSERT INTO oauth_client (client_id, name, scope, jwks, admin, rate_per_second, rate_per_minute)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${CLIENT_COLUMNS}`,
    [client.clientId, client.name, client.scope, client.jwks ? JSON.stringify(client.jwks) : null, client.admin, client.ratePerSecond, client.ratePerMinute],
  );
  return rows[0];
}

export async function findClient(q: Queryable, clientId: string): Promise<ClientRecord | undefined> {
  const rows = await q.query<ClientRecord>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client WHERE client_id = $1`, [clientId]);
  return rows[0];
}

export async function listClients(q: Queryable): Promise<ClientRecord[]> {
  return q.query<ClientRecord>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client ORDER BY created_at, client_id`);
}

/** Clients changed after `afterSeq` (for the per-process cache). */
export async function clientsChangedSince(q: Queryable, afterSeq: string): Promise<ClientRecord[]> {
  return q.query<ClientRecord>(`SELECT ${CLIENT_COLUMNS} FROM oauth_client WHERE change_seq > $1 ORDER BY change_seq`, [afterSeq]);
}

/** Marks a client disabled and bumps its change sequence; undefined when unknown. */
export async function disableClient(q: Queryable, clientId: string): Promise<ClientRecord | undefined> {
  const rows = await q.query<ClientRecord>(
    `UPDATE oauth_client SET status = 'disabled', change_seq = nextval('auth_change_seq')
      WHERE client_id = $1 RETURNING ${CLIENT_COLUMNS}`,
    [clientId],
  );
  return rows[0];
}

/**
 * Changes a client's allowed scope and rate limits (a field left undefined keeps its value; a
 * rate of null returns to the server's default) and bumps its change sequence, so every process's
 * client cache picks it up; a new scope also becomes the scope of the client's refresh tokens.
 * Undefined when the client is unknown.
 */
export async function updateClient(
  q: Queryable, clientId: string, change: { scope?: string; ratePerSecond?: number | null; ratePerMinute?: number | null },
): Promise<ClientRecord | undefined> {
  const rows = await q.query<ClientRecord>(
    `UPDATE oauth_client SET scope = CASE WHEN $2 THEN $3 ELSE scope END,
            rate_per_second = CASE WHEN $4 THEN $5::int ELSE rate_per_second END,
            rate_per_minute = CASE WHEN $6 THEN $7::int ELSE rate_per_minute END,
            change_seq = nextval('auth_change_seq')
      WHERE client_id = $1 RETURNING ${CLIENT_COLUMNS}`,
    [clientId, change.scope !== undefined, change.scope ?? null, change.ratePerSecond !== undefined, change.ratePerSecond ?? null,
      change.ratePerMinute !== undefined, change.ratePerMinute ?? null],
  );
  if (rows[0] && change.scope !== undefined) await q.query('UPDATE oauth_refresh_token SET scope = $2 WHERE client_id = $1', [clientId, change.scope]);
  return rows[0];
}

export async function insertRefreshToken(q: Queryable, tokenHash: string, clientId: string, scope: string): Promise<void> {
  await q.query('INSERT INTO oauth_refresh_token (token_hash, client_id, scope) VALUES ($1, $2, $3)', [tokenHash, clientId, scope]);
}

export interface RefreshTokenRecord {
  clientId: string;
  scope: string;
  revoked: boolean;
}

export async function findRefreshToken(q: Queryable, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const rows = await q.query<RefreshTokenRecord>(
    `SELECT client_id AS "clientId", scope, revoked_at IS NOT NULL AS revoked FROM oauth_refresh_token WHERE token_hash = $1`,
    [tokenHash],
  );
  return rows[0];
}

export async function revokeRefreshToken(q: Queryable, tokenHash: string): Promise<boolean> {
  const rows = await q.query('UPDATE oauth_refresh_token SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING 1', [tokenHash]);
  return rows.length > 0;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  retired: boolean;
}

/** Every signing key, newest first. */
export async function listSigningKeys(q: Queryable): Promise<SigningKeyRecord[]> {
  return q.query<SigningKeyRecord>(
    `SELECT kid, alg, private_jwk AS "privateJwk", public_jwk AS "publicJwk", retired_at IS NOT NULL AS retired
       FROM oauth_signing_key ORDER BY created_at DESC, kid`,
  );
}

export async function insertSigningKey(q: Queryable, key: Omit<SigningKeyRecord, 'retired'>): Promise<void> {
  await q.query(
    'INSERT INTO oauth_signing_key (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)',
    [key.kid, key.alg, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk)],
  );
}

/**
 * Records a client assertion's `jti`; false when it was already used (a replay). Expired
 * entries are pruned on the way.
 */
export async function rememberAssertionJti(q: Queryable, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await q.query(
    `WITH pruned AS (DELETE FROM oauth_assertion_jti WHERE expires_at < now() - interval '1 minute')
     INSERT INTO oauth_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [clientId, jti, expiresAt.toISOString()],
  );
  return rows.length > 0;
}

export async function insertRevokedAccessToken(q: Queryable, jti: string, expiresAt: Date): Promise<void> {
  await q.query(
    'INSERT INTO oauth_revoked_access_token (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [jti, expiresAt.toISOString()],
  );
}

export interface RevokedTokenRecord {
  jti: string;
  expiresAt: string;
  changeSeq: string;
}

export async function revokedTokensSince(q: Queryable, afterSeq: string): Promise<RevokedTokenRecord[]> {
  return q.query<RevokedTokenRecord>(
    `SELECT jti, expires_at::text AS "expiresAt", change_seq::text AS "changeSeq" FROM oauth_revoked_access_token
      WHERE change_seq > $1 AND expires_at > now() ORDER BY change_seq`,
    [afterSeq],
  );
}

/** The newest change sequence value handed out (a starting point for pollers). */
export async function currentAuthChangeSeq(q: Queryable): Promise<string> {
  const rows = await q.query<{ seq: string }>(
    `SELECT GREATEST(
       (SELECT coalesce(max(change_seq), 0) FROM oauth_client),
       (SELECT coalesce(max(change_seq), 0) FROM oauth_revoked_access_token))::text AS seq`,
  );
  return rows[0].seq;
}
