/**
 * Makes searches slow deterministically: another session holds an ACCESS EXCLUSIVE lock on the
 * string index, so a search by a string parameter waits (as an active statement) until the lock
 * goes, it is cancelled or it times out.
 */
import pg from 'pg';
import type { TestServer } from './test-server.ts';

/** Runs `body` while another session locks the string index of `t`'s database; `admin` is a third session. */
export async function withStringIndexLocked<T>(t: TestServer, body: (admin: pg.Client) => Promise<T>): Promise<T> {
  const locker = new pg.Client({ connectionString: t.databaseUrl });
  const admin = new pg.Client({ connectionString: t.databaseUrl });
  await locker.connect();
  await admin.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE search_string IN ACCESS EXCLUSIVE MODE');
    return await body(admin);
  } finally {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
    await admin.end();
  }
}
