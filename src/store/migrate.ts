/**
 * Applies the pending schema migrations. Several processes starting at once migrate once: the
 * migrator runs under a session-level `pg_advisory_lock` (DECISIONS.md §3). The job queue's
 * schema (`pgboss`) is pg-boss's own: it migrates it under its own advisory lock.
 */
import { JobQueue } from './job-queue.ts';
import { openOrm, type Orm } from './orm.ts';

/** Arbitrary, fixed key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 0x66686972; // "fhir"

/** Runs every pending migration on an open ORM; returns the names applied. */
export async function migrateOrm(orm: Orm): Promise<string[]> {
  const knex = orm.em.getConnection().getKnex();
  const connection = await knex.client.acquireConnection();
  try {
    await connection.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await orm.getMigrator().up();
      return applied.map((m) => m.name);
    } finally {
      await connection.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}

/** Opens the database at `databaseUrl`, applies pending migrations (the job queue's too) and closes it again. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const orm = await openOrm(databaseUrl, 2);
  try {
    await migrateOrm(orm);
  } finally {
    await orm.close(true);
  }
  await JobQueue.migrate(databaseUrl);
}
