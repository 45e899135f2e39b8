/**
 * What `/readyz` asks the database (src/telemetry/readiness.ts): whether every schema migration is
 * applied, how long the oldest committed change has waited for its feed position, and how long the
 * oldest job that may start has waited in the job queue. Each is one short statement. The metrics'
 * backlog gauges read the feed lag and, per queue, {@link jobQueueBacklog}.
 */
import type { Database } from './database.ts';
import { JOB_SCHEMA } from './job-queue.ts';

/** The names of migrations this build has that the database has not applied. */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const pending = await db.orm.getMigrator().getPendingMigrations();
  return pending.map((m) => m.name);
}

/** Milliseconds since the oldest committed change without a feed position was recorded (0: none waits). */
export async function changeFeedLagMs(db: Database): Promise<number> {
  const rows = await db.query<{ lag: number | null }>(
    `SELECT (extract(epoch FROM now() - min(recorded_at)) * 1000)::float8 AS lag FROM change_event WHERE position IS NULL`,
  );
  return Math.max(0, rows[0]?.lag ?? 0);
}

/** Milliseconds the oldest job that may start now has waited (0: none waits). */
export async function jobQueueAgeMs(db: Database): Promise<number> {
  const rows = await db.query<{ age: number | null }>(
    `SELECT (extract(epoch FROM now() - min(start_after)) * 1000)::float8 AS age
       FROM ${JOB_SCHEMA}.job WHERE state IN ('created', 'retry') AND start_after <= now()`,
  );
  return Math.max(0, rows[0]?.age ?? 0);
}

/** Per job queue: the jobs waiting (created or to be retried) and how long the oldest that may start has waited, in ms. */
export async function jobQueueBacklog(db: Database): Promise<{ queue: string; depth: number; oldestAgeMs: number }[]> {
  const rows = await db.query<{ queue: string; depth: number; age: number | null }>(
    `SELECT q.name AS queue, count(j.id)::int AS depth,
            (extract(epoch FROM now() - min(j.start_after) FILTER (WHERE j.start_after <= now())) * 1000)::float8 AS age
       FROM ${JOB_SCHEMA}.queue q
       LEFT JOIN ${JOB_SCHEMA}.job j ON j.name = q.name AND j.state IN ('created', 'retry')
      GROUP BY q.name ORDER BY q.name`,
  );
  return rows.map((r) => ({ queue: r.queue, depth: r.depth, oldestAgeMs: Math.max(0, r.age ?? 0) }));
}

/** What the metrics' backlog gauges read over `db`. */
export function backlogProbes(db: Database) {
  return { changeFeedLagMs: () => changeFeedLagMs(db), jobQueueBacklog: () => jobQueueBacklog(db) };
}

/** The probes of `/readyz` over `db`. */
export function readinessProbes(db: Database) {
  return {
    ping: () => db.ping(),
    pendingMigrations: () => pendingMigrations(db),
    changeFeedLagMs: () => changeFeedLagMs(db),
    jobQueueAgeMs: () => jobQueueAgeMs(db),
  };
}
