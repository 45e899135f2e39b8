/**
 * The server's token-signing keys (ES256, through `jose`). They live in the database, so every
 * server process and every restart signs and verifies the same tokens; the newest unretired key
 * signs, every unretired key verifies (rotation by `kid`), and `GET /auth/jwks` publishes the
 * public halves. https://datatracker.ietf.org/doc/html/rfc7517
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { Database } from '../store/database.ts';
import { insertSigningKey, listSigningKeys, type SigningKeyRecord } from '../store/oauth-repository.ts';
import { AUTH_CHANNEL } from './auth-state.ts';

export const ACCESS_TOKEN_ALG = 'ES256';
/** Advisory lock key serialising key creation across processes starting together. */
const KEY_LOCK = 0x666b6579; // "fkey"
/** A token naming an unknown `kid` makes us re-read the keys at most this often. */
const RELOAD_INTERVAL_MS = 5_000;

type Key = CryptoKey | KeyObject | Uint8Array;

interface LoadedKey {
  kid: string;
  privateKey: Key;
  publicKey: Key;
  publicJwk: JWK;
}

async function loadRecord(record: SigningKeyRecord): Promise<LoadedKey> {
  return {
    kid: record.kid,
    privateKey: await importJWK(record.privateJwk as JWK, record.alg),
    publicKey: await importJWK(record.publicJwk as JWK, record.alg),
    publicJwk: { ...(record.publicJwk as JWK), kid: record.kid, alg: record.alg, use: 'sig' },
  };
}

/**
 * Rotates the signing key: a new ES256 key pair signs from now on, the previous key keeps
 * verifying the tokens it signed (15 minutes at most), and keys replaced more than an hour ago
 * are retired. Every process is told to reload (`NOTIFY`).
 */
export async function rotateSigningKey(db: Database): Promise<{ kid: string; retired: string[] }> {
  const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
  const kid = randomUUID();
  const retired = await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
    const rows = await tx.query<{ kid: string }>(
      `UPDATE oauth_signing_key SET retired_at = now()
        WHERE retired_at IS NULL AND kid <> (SELECT kid FROM oauth_signing_key WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1)
          AND created_at < now() - interval '1 hour' RETURNING kid`,
    );
    await insertSigningKey(tx, { kid, alg: ACCESS_TOKEN_ALG, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) });
    return rows.map((r) => r.kid);
  });
  await db.query(`SELECT pg_notify('${AUTH_CHANNEL}', 'keys')`);
  return { kid, retired };
}

/** The signing keys of this process, loaded from (and created in) the database. */
export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  private current: LoadedKey | undefined;
  private lastReload = 0;

  private constructor(private readonly db: Database) {}

  /** Loads the keys, creating the first one when the database has none. */
  static async open(db: Database): Promise<SigningKeys> {
    const store = new SigningKeys(db);
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const existing = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM oauth_signing_key WHERE retired_at IS NULL');
      if (existing[0].n === 0) {
        const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
        await insertSigningKey(tx, { kid: randomUUID(), alg: ACCESS_TOKEN_ALG, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) });
      }
    });
    await store.reload();
    return store;
  }

  /** Re-reads the keys from the database. */
  async reload(): Promise<void> {
    this.lastReload = Date.now();
    const records = (await listSigningKeys(this.db)).filter((r) => !r.retired);
    const loaded = await Promise.all(records.map(loadRecord));
    this.keys = new Map(loaded.map((k) => [k.kid, k]));
    this.current = loaded[0];
  }

  /** The key that signs new tokens. */
  signingKey(): { kid: string; key: Key } {
    if (!this.current) throw new Error('No signing key is loaded');
    return { kid: this.current.kid, key: this.current.privateKey };
  }

  /** The verification key for `kid`, re-reading the database (rate-limited) for an unknown one. */
  async verificationKey(kid: string | undefined): Promise<Key | undefined> {
    if (!kid) return undefined;
    const known = this.keys.get(kid);
    if (known) return known.publicKey;
    if (Date.now() - this.lastReload < RELOAD_INTERVAL_MS) return undefined;
    await this.reload();
    return this.keys.get(kid)?.publicKey;
  }

  /** The public JWKS (`GET /auth/jwks`). */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => k.publicJwk) };
  }
}
