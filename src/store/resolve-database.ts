/**
 * Which PostgreSQL the server and the CLI use (CONTRACT.md "Running it"): `DATABASE_URL` when it
 * is set, otherwise the embedded cluster in `DATA_DIR` (DECISIONS.md §9).
 */
import type { Config } from '../config.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

/** A database to connect to, and how to let go of it when the process shuts down. */
export interface ResolvedDatabase {
  /** Connection string; may contain a password, so never log it. */
  databaseUrl: string;
  /** Stops the embedded cluster this process started; a no-op for `DATABASE_URL` or a reused cluster. */
  stop(): Promise<void>;
}

/**
 * Which database a configuration points at, for a line on stderr, never with credentials:
 * `DATABASE_URL postgresql://db.example:5432/fhirgraph` (no user, password or query string, which
 * may hold a password too), or `the embedded PostgreSQL in /srv/fhirgraph/.data`.
 */
export function describeDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (!config.databaseUrl) return `the embedded PostgreSQL in ${config.dataDir} (DATA_DIR)`;
  let url: URL;
  try {
    url = new URL(config.databaseUrl);
  } catch {
    return 'DATABASE_URL (not a URL, so not shown)';
  }
  return `DATABASE_URL ${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * Resolves `config.databaseUrl`, or starts (or reuses, when a server already runs it) the embedded
 * PostgreSQL in `config.dataDir`. The caller calls `stop()` on SIGINT/SIGTERM, after closing its pool.
 */
export async function resolveDatabase(config: Config, log?: (msg: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { databaseUrl: config.databaseUrl, stop: async () => undefined };
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  return { databaseUrl: embedded.databaseUrl, stop: () => embedded.stop() };
}
