/**
 * The store's access to PostgreSQL: parameterised SQL on raw `pg` connections taken from
 * MikroORM's own bounded pool, so hot paths pay no ORM overhead yet share one pool and one
 * configuration with the ORM (DECISIONS.md §3). Driver errors are turned into {@link FhirError}s
 * here, at the store's boundary; nothing above it sees SQL errors. Statements sent for an API
 * request ({@link currentQueryScope}) run under its `statement_timeout` and are cancelled when its
 * client goes away. A statement the store runs often may be sent as a named (prepared) one, parsed
 * and planned once per connection ({@link QueryOptions.name}).
 */
import type { QueryResultRow } from 'pg';
import { FhirError, conflict, invariant, outcome } from '../fhir/outcomes.ts';
import { sendCancelRequest, type CancelTarget } from './cancel-request.ts';
import { databaseUnavailable, isDatabaseUnavailable } from './database-unavailable.ts';
import { openOrm, type Orm } from './orm.ts';
import { migrateOrm } from './migrate.ts';
import { abortErrorOf, currentQueryScope, runOutsideQueryScope, type QueryScope } from './query-scope.ts';
import { noteStatement } from './statement-counter.ts';
import type { PoolStats, StatementRecorder } from '../telemetry/metrics/index.ts';
import { traceStatement, tracingOn } from '../telemetry/tracing/index.ts';

/** How a statement is sent. */
export interface QueryOptions {
  /**
   * Sends the statement as a named prepared statement: each connection parses (and, once
   * PostgreSQL settles on a generic plan, plans) it once, then only binds and executes it. The
   * name must always go with the same text (a constant statement of the store, never one built
   * from a request).
   */
  name?: string;
  /**
   * Within a {@link Database.transaction}: the work sends no statement after this one. When it is
   * also the transaction's first, it runs on its own, without `BEGIN` and `COMMIT`: one statement
   * is atomic by itself (its data-modifying CTEs included), so a one-statement write costs one
   * round trip to PostgreSQL instead of three.
   */
  last?: boolean;
}

/** What every query runner offers: a pooled database or one transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[], options?: QueryOptions): Promise<R[]>;
  /**
   * Set on a {@link Database.transaction}: the store calls it when the transaction appends change
   * events, and once it has committed the database tells its {@link Database.onChangeEventsCommitted}
   * listeners (the change feed's sequencer), so no `NOTIFY` is sent inside a write transaction.
   */
  noteChangeEvents?(): void;
}

interface PgConnection extends CancelTarget {
  query(sql: string | { name: string; text: string; values: unknown[] }, params?: unknown[]): Promise<{ rows: QueryResultRow[] }>;
}

/** Sends one statement, named (prepared) when `name` is given. */
function send(connection: PgConnection, sql: string, params: unknown[], name: string | undefined) {
  return name ? connection.query({ name, text: sql, values: params }) : connection.query(sql, params);
}

/** The `statement_timeout` of each pooled connection that an API request set (absent: the server's default). */
const timeouts = new WeakMap<PgConnection, number>();

/** Throws once the request has been given up (its client went away, or its deadline passed). */
function assertClientPresent(scope: QueryScope | undefined): void {
  if (scope?.cancel.aborted) throw abortErrorOf(scope);
}

/**
 * Runs one statement; when the request's client goes away meanwhile, sends PostgreSQL a cancel for
 * it, and returns only after that cancel has been delivered, so it cannot hit the connection's
 * next statement.
 */
/**
 * {@link runStatement} as telemetry sees it: a span when tracing is on, its duration in
 * `statements` when metrics are on; off, one boolean test and one `undefined` check.
 */
async function runObserved(
  connection: PgConnection, sql: string, params: unknown[], scope: QueryScope | undefined, name: string | undefined, statements: StatementRecorder | undefined,
) {
  const started = statements ? performance.now() : 0;
  try {
    return await (tracingOn ? traceStatement(sql, () => runStatement(connection, sql, params, scope, name)) : runStatement(connection, sql, params, scope, name));
  } finally {
    statements?.observeStatement(sql, name, (performance.now() - started) / 1000);
  }
}

async function runStatement(connection: PgConnection, sql: string, params: unknown[], scope: QueryScope | undefined, name?: string) {
  if (!scope) return send(connection, sql, params, name);
  assertClientPresent(scope);
  let cancelling: Promise<void> | undefined;
  const cancel = () => { cancelling = sendCancelRequest(connection); };
  scope.cancel.onAbort(cancel);
  try {
    return await send(connection, sql, params, name);
  } finally {
    scope.cancel.offAbort(cancel);
    if (cancelling) await cancelling;
  }
}

/** A statement's error as the domain error; a statement cancelled for a departed client (or a deadline) says so. */
function toScopedError(err: unknown, scope: QueryScope | undefined): unknown {
  if (scope?.cancel.aborted && (err as { code?: string }).code === '57014') return abortErrorOf(scope);
  return toFhirError(err);
}

/**
 * Runs `work` holding one of the connection slots of the scope's client (none for requests
 * without a client). A client whose requests already hold all of theirs waits up to
 * `DB_ACQUIRE_TIMEOUT_MS`, then gets a 503 with `Retry-After`.
 */
async function withClientSlot<T>(scope: QueryScope, work: () => Promise<T>): Promise<T> {
  const { client } = scope;
  if (!client) return work();
  if (!client.slots.tryTake()) await client.slots.take(scope.cancel, () => abortErrorOf(scope), client.wait);
  try {
    return await work();
  } finally {
    client.slots.give();
  }
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
  private readonly client: {
    acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void>;
    /** knex's tarn pool (absent until the first connection is asked for). */
    pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number };
  };
  private readonly changeListeners = new Set<() => void>();

  private constructor(orm: Orm, databaseUrl: string, private readonly poolSize: number, private readonly statements: StatementRecorder | undefined) {
    this.orm = orm;
    this.databaseUrl = databaseUrl;
    this.client = orm.em.getConnection().getKnex().client;
  }

  /**
   * Opens the pool and (unless told not to) applies pending migrations. `acquireTimeoutMs` bounds
   * how long a query waits for a connection (pooled or new) before it fails with 503;
   * `statements` receives each statement's duration (metrics on).
   */
  static async open(databaseUrl: string, options: { poolSize?: number; migrate?: boolean; acquireTimeoutMs?: number; statements?: StatementRecorder } = {}): Promise<Database> {
    const orm = await openOrm(databaseUrl, options.poolSize ?? 10, options.acquireTimeoutMs);
    try {
      if (options.migrate !== false) await migrateOrm(orm);
    } catch (err) {
      await orm.close(true);
      throw err;
    }
    return new Database(orm, databaseUrl, options.poolSize ?? 10, options.statements);
  }

  /**
   * Runs one statement on a pooled connection. Within an API request it first takes one of the
   * request's connection slots, so a request running many statements at once (a GraphQL
   * operation's root fields) holds only a few of the pool's connections, then one of its client's
   * slots, so one client's requests together hold only their share of the pool; a transaction is
   * one statement after another on one connection and takes one client slot for all of them.
   */
  async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<R[]> {
    const scope = currentQueryScope();
    if (!scope) return this.queryOnce<R>(sql, params, undefined, options?.name);
    if (!scope.connections.tryTake()) await scope.connections.take(scope.cancel, () => abortErrorOf(scope));
    try {
      return await withClientSlot(scope, () => this.queryOnce<R>(sql, params, scope, options?.name));
    } finally {
      scope.connections.give();
    }
  }

  private async queryOnce<R extends QueryResultRow>(sql: string, params: unknown[], scope: QueryScope | undefined, name: string | undefined): Promise<R[]> {
    const connection = await this.acquire(scope);
    try {
      noteStatement();
      return (await runObserved(connection, sql, params, scope, name, this.statements)).rows as R[];
    } catch (err) {
      throw toScopedError(err, scope);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  /**
   * A pooled connection set to the request's `statement_timeout`, or back to the server's default
   * outside a request (CLI commands, migrations, background work are never cut off). The `SET`
   * is sent only when a connection changes hands between the two, outside any transaction so a
   * rollback cannot undo it. No connection at all once the request's client has gone; an
   * unreachable database or a pool timeout becomes a 503 {@link FhirError}.
   */
  private async acquire(scope: QueryScope | undefined): Promise<PgConnection> {
    assertClientPresent(scope);
    let connection: PgConnection;
    try {
      connection = scope ? await this.acquireUnlessAborted(scope) : await this.client.acquireConnection();
    } catch (err) {
      throw toFhirError(err);
    }
    const wanted = scope ? Math.trunc(scope.statementTimeoutMs) : undefined;
    if (timeouts.get(connection) === wanted) return connection;
    try {
      await connection.query(wanted === undefined ? 'RESET statement_timeout' : `SET statement_timeout = ${wanted}`);
      if (wanted === undefined) timeouts.delete(connection);
      else timeouts.set(connection, wanted);
      return connection;
    } catch (err) {
      await this.client.releaseConnection(connection);
      throw toFhirError(err);
    }
  }

  /** Waits for a pooled connection, but stops waiting when the request is given up (the connection, once there, goes back). */
  private acquireUnlessAborted(scope: QueryScope): Promise<PgConnection> {
    const { cancel } = scope;
    return new Promise((resolve, reject) => {
      const gone = () => reject(abortErrorOf(scope));
      cancel.onAbort(gone);
      this.client.acquireConnection().then((connection) => {
        cancel.offAbort(gone);
        if (!cancel.aborted) resolve(connection);
        else void this.client.releaseConnection(connection);
      }, (err: unknown) => {
        cancel.offAbort(gone);
        reject(err);
      });
    });
  }

  /**
   * Runs `work` in one database transaction: committed when it resolves, rolled back when it
   * throws, so a failed request leaves no partial data.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const scope = currentQueryScope();
    return scope ? withClientSlot(scope, () => this.transactionOnce(work, scope)) : this.transactionOnce(work, undefined);
  }

  /**
   * `BEGIN` goes out just before the work's first statement, unless that statement says it is the
   * last ({@link QueryOptions.last}): then it runs alone in autocommit and there is nothing to
   * commit or roll back. A work that sends nothing costs no round trip at all.
   */
  private async transactionOnce<T>(work: (tx: Queryable) => Promise<T>, scope: QueryScope | undefined): Promise<T> {
    const connection = await this.acquire(scope);
    let begin: Promise<unknown> | undefined;
    /** 'alone': the one statement ran in autocommit (set before it is sent); 'committed' once it succeeded. */
    let alone = 'no' as 'no' | 'alone' | 'committed';
    let changed = false;
    const { statements } = this;
    try {
      const tx: Queryable = {
        async query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<R[]> {
          invariant(alone === 'no', 'A transaction sent a statement after the one it called its last');
          if (!begin && options?.last) alone = 'alone';
          else begin ??= connection.query('BEGIN');
          if (begin) await begin;
          noteStatement();
          const result = await runObserved(connection, sql, params, scope, options?.name, statements);
          if (alone === 'alone') alone = 'committed';
          return result.rows as R[];
        },
        noteChangeEvents: () => { changed = true; },
      };
      const value = await work(tx);
      if (begin) {
        const open = begin;
        begin = undefined;
        await open.then(() => connection.query('COMMIT'));
      }
      if (changed) this.announceChangeEvents();
      return value;
    } catch (err) {
      if (begin) await begin.then(() => connection.query('ROLLBACK')).catch(() => undefined);
      // A statement that ran alone is durable whatever the work did after it.
      else if (alone === 'committed' && changed) this.announceChangeEvents();
      throw toScopedError(err, scope);
    } finally {
      await this.client.releaseConnection(connection);
    }
  }

  /**
   * Calls `listener` after each transaction of this database that appended change events has
   * committed (outside the request that ran it); returns the function that stops it.
   */
  onChangeEventsCommitted(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private announceChangeEvents(): void {
    runOutsideQueryScope(() => {
      for (const listener of this.changeListeners) {
        try {
          listener();
        } catch {
          // a listener's failure is its own business; the write has committed
        }
      }
    });
  }

  /** The pool's connections in use and idle, and the requests waiting for one (for the metrics). */
  poolStats(): PoolStats {
    const { pool } = this.client;
    return pool
      ? { inUse: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires(), max: this.poolSize }
      : { inUse: 0, idle: 0, waiting: 0, max: this.poolSize };
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
