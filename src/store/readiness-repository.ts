/**
 * What `/readyz` asks the database (src/telemetry/readiness.ts): whether every schema migration is
 * applied, how long the oldest committed change has waited for its feed position, and how long the
 * oldest job that may start has waited in the job queue. Each is one short statement.
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

/** The probes of `/readyz` over `db`. */
export function readinessProbes(db: Database) {
  return {
    ping: () => db.ping(),
    pendingMigrations: () => pendingMigrations(db),
    changeFeedLagMs: () => changeFeedLagMs(db),
    jobQueueAgeMs: () => jobQueueAgeMs(db),
  };
}
