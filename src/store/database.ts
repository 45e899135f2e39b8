/**
 * The store's access to PostgreSQL: parameterised SQL on raw `pg` connections taken from
 * MikroORM's own bounded pool, so hot paths pay no ORM overhead yet share one pool and one
 * configuration with the ORM (DECISIONS.md §3). Driver errors are turned into {@link FhirError}s
 * here, at the store's boundary; nothing above it sees SQL errors.
 */
import type { QueryResultRow } from 'pg';
import { FhirError, conflict, outcome } from '../fhir/outcomes.ts';
import { databaseUnavailable, isDatabaseUnavailable } from './database-unavailable.ts';
import { openOrm, type Orm } from './orm.ts';
import { migrateOrm } from './migrate.ts';
import { noteStatement } from './statement-counter.ts';

/** What every query runner offers: a pooled database or one transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

interface PgConnection {
  query(sql: string, params?: unknown[]): Promise<{ rows: QueryResultRow[] }>;
}

/** SQLSTATEs that a retry of the whole transaction can cure. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Maps a driver error to the domain error; unknown ones stay programmer errors (500). */
export function toFhirError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  const code = (err as { code?: string }).code;
  if (code === '23505') return conflict('The resource was changed by a concurrent request; retry');
  if (code && RETRYABLE.has(code)) return conflict('The transaction conflicted with a concurrent one; retry');
  if (code === '54001' || code === '22P05' || code === '22021') {
    return new FhirError(400, outcome('error', 'invalid', 'The content cannot be stored'));
  }
  if (code === '57014') return new FhirError(503, outcome('error', 'timeout', 'The query took too long'));
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
  return err;
}

/** A pooled PostgreSQL database with migrations applied. */
export class Database implements Queryable {
  readonly orm: Orm;
  /** The connection string (may hold a password: never log it). */
  readonly databaseUrl: string;
  private readonly client: { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> };

  private constructor(orm: Orm, databaseUrl: string) {
    this.orm = orm;
    this.databaseUrl = databaseUrl;
    this.client = orm.em.getConnection().getKnex().client;
  }

  /**
   * Opens the pool and (unless told not to) applies pending migrations. `acquireTimeoutMs` bounds
   * how long a query waits for a connection (pooled or new) before it fails with 503.
   */
  static async open(databaseUrl: string, options: { poolSize?: number; migrate?: boolean; acquireTimeoutMs?: number } = {}): Promise<Database> {
    const orm = await openOrm(databaseUrl, options.poolSize ?? 10, options.acquireTimeoutMs);
    try {
      if (options.migrate !== false) await migrateOrm(orm);
    } catch (err) {
      await orm.close(true);
      throw err;
    }
    return new Database(orm, databaseUrl);
  }

  /** A pooled connection; an unreachable database or a pool timeout becomes a 503 {@link FhirError}. */
  private async acquire(): Promise<PgConnection> {
    try {
      return await this.client.acquireConnection();
    } catch (err) {
      throw toFhirError(err);
    }
  }

  async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const connection = await this.acquire();
    try {
      noteStatement();
      const result = await connection.query(sql, params);
      return result.rows as R[];
    } catch (err) {
      throw toFhirError(err);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  /**
   * Runs `work` in one database transaction: committed when it resolves, rolled back when it
   * throws, so a failed request leaves no partial data.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    let open = false;
    try {
      await connection.query('BEGIN');
      open = true;
      const tx: Queryable = {
        async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
          noteStatement();
          const result = await connection.query(sql, params);
          return result.rows as R[];
        },
      };
      const value = await work(tx);
      await connection.query('COMMIT');
      open = false;
      return value;
    } catch (err) {
      if (open) await connection.query('ROLLBACK').catch(() => undefined);
      throw toFhirError(err);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  /** True when the database answers a trivial query (for `/healthz`). */
  async ping(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.orm.close(true);
  }
}
