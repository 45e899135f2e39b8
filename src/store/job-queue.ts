/**
 * The product's one job queue (DECISIONS.md §11): pg-boss 10 on its own small `pg.Pool` (3
 * connections, so several server processes fit `max_connections = 100`), in its own schema
 * `pgboss`, which pg-boss creates and migrates itself at start. It is chosen over graphile-worker
 * 0.16 because a job whose process was killed is retried once its expiry passes (seconds, per
 * job), where graphile-worker holds the lock for four hours.
 *
 * Jobs are enqueued and completed through the caller's transaction (`Queryable`), so the work a
 * job records (an AuditEvent, a moved durable cursor) commits together with the job's own state:
 * a crash keeps both or neither. Jobs are taken with `fetch` (`FOR UPDATE SKIP LOCKED`, on the
 * queue's pool): an attempt under way holds no transaction open.
 * https://github.com/timgit/pg-boss/tree/10.4.2/docs
 */
import PgBoss from 'pg-boss';
import type { Worker } from './worker.ts';

/**
 * What jobs are enqueued and completed through: a `Queryable` (database.ts) — the caller's
 * transaction. Declared here by shape, since database.ts (through migrations) imports this module.
 */
export interface JobStatementRunner {
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
}

/** The schema pg-boss keeps its tables in. */
export const JOB_SCHEMA = 'pgboss';
/** Connections of the queue's own pool per process. */
const POOL_SIZE = 3;
/**
 * How often one of the processes runs pg-boss maintenance: expiring jobs whose process died (they
 * are retried), archiving finished ones. Short, so a crashed attempt is retried within seconds.
 */
const MAINTENANCE_SECONDS = 5;
/** Advisory lock key ("fgjq") that serialises queue creation across processes. */
const QUEUE_SETUP_LOCK_KEY = 0x66676a71;

/** A queue and how its jobs behave. */
export interface QueueSettings {
  name: string;
  /** An active job not completed within this long is taken for lost (its process died) and retried. */
  expireInSeconds: number;
  /** How often a lost job is retried before pg-boss gives it up. */
  retryLimit: number;
  /** Seconds before a lost job is retried. */
  retryDelaySeconds: number;
  /** How long a job may wait to start before pg-boss drops it. */
  retentionMinutes: number;
}

/** A job taken from a queue. */
export interface QueuedJob<T> {
  id: string;
  data: T;
}

/** A job to enqueue: its data and, optionally, a delay before it may start. */
export interface NewJob<T> {
  data: T;
  /** Seconds from now (the database's clock) before the job may start. */
  startAfterSeconds?: number;
}

/** pg-boss's connection interface over one of our transactions (or the pool). */
function asPgBossDb(q: JobStatementRunner): PgBoss.Db {
  return { executeSql: async (text, values) => ({ rows: await q.query(text, values) }) };
}

/** pg-boss's `complete` with explicit `data` (its typings leave `data` out of the array form). */
type CompleteJobs = (name: string, ids: string[], data: null, options: PgBoss.ConnectionOptions) => Promise<{ affected: number }>;

/** The job queue of one server process; a {@link Worker} (maintenance runs while started). */
export class JobQueue implements Worker {
  readonly name = 'job-queue';
  private readonly boss: PgBoss;
  private started = false;

  constructor(databaseUrl: string, onError: (err: unknown) => void = () => undefined) {
    this.boss = new PgBoss({
      connectionString: databaseUrl,
      max: POOL_SIZE,
      application_name: 'fhirgraph-jobs',
      schema: JOB_SCHEMA,
      migrate: true,
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: MAINTENANCE_SECONDS,
      archiveCompletedAfterSeconds: 3_600,
      deleteAfterDays: 1,
    });
    this.boss.on('error', onError);
  }

  /** Creates (or migrates) the queue's schema in the database at `databaseUrl` (the CLI's `migrate`). */
  static async migrate(databaseUrl: string): Promise<void> {
    const boss = new PgBoss({ connectionString: databaseUrl, max: 1, schema: JOB_SCHEMA, migrate: true, supervise: false, schedule: false });
    boss.on('error', () => undefined);
    await boss.start();
    await boss.stop({ graceful: false, wait: true });
  }

  /** Opens the pool, migrates the schema and starts maintenance. */
  async start(): Promise<void> {
    await this.boss.start();
    this.started = true;
  }

  /** Stops maintenance and closes the pool (jobs under way are the caller's to finish first). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: false, wait: true });
  }

  /**
   * Creates the queues that are missing and applies `settings` to them, one process at a time:
   * pg-boss creates a queue's partition with DDL, and two processes creating the same queue at
   * once deadlock. `lockTx` is the caller's transaction, which holds the advisory lock meanwhile.
   */
  async ensureQueues(lockTx: JobStatementRunner, settings: readonly QueueSettings[]): Promise<void> {
    await lockTx.query('SELECT pg_advisory_xact_lock($1)', [QUEUE_SETUP_LOCK_KEY]);
    for (const queue of settings) {
      const options = {
        name: queue.name,
        policy: 'standard' as const,
        expireInSeconds: queue.expireInSeconds,
        retryLimit: queue.retryLimit,
        retryDelay: queue.retryDelaySeconds,
        retryBackoff: false,
        retentionMinutes: queue.retentionMinutes,
      };
      if (!(await this.boss.getQueue(queue.name))) await this.boss.createQueue(queue.name, options);
      await this.boss.updateQueue(queue.name, options);
    }
  }

  /** Takes up to `batchSize` jobs that may start now (each is active until completed or expired). */
  async fetch<T>(queue: string, batchSize: number): Promise<QueuedJob<T>[]> {
    const jobs = await this.boss.fetch<T>(queue, { batchSize });
    return jobs.map((job) => ({ id: job.id, data: job.data }));
  }

  /** Enqueues jobs in the caller's transaction (one statement for any number). */
  async enqueue<T extends object>(q: JobStatementRunner, queue: string, jobs: readonly NewJob<T>[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.boss.insert(jobs.map((job) => ({
      name: queue,
      data: job.data,
      ...(job.startAfterSeconds ? { startAfter: String(Math.max(0, job.startAfterSeconds)) } : {}),
    })), { db: asPgBossDb(q) });
  }

  /**
   * Marks active jobs done in the caller's transaction; returns how many were still active (a job
   * that outlived its expiry has been handed back to the queue, and is not completed here).
   */
  async complete(q: JobStatementRunner, queue: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await (this.boss.complete as unknown as CompleteJobs)(queue, [...ids], null, { db: asPgBossDb(q) });
    return result.affected;
  }
}
