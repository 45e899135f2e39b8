/**
 * A database of its own for a test file, cloned from the migrated template that the global setup
 * made (DECISIONS.md §9), so test files run in parallel without seeing each other's data.
 *
 * ```ts
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 * ```
 *
 * `createEmptyTestDatabase()` makes one with no schema at all, for tests of the migrations.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A freshly cloned, migrated database; `drop()` removes it even if connections are still open. */
export interface TestDatabase {
  /** Connection string for the new database; may contain a password, never log it. */
  databaseUrl: string;
  drop(): Promise<void>;
}

/** Advisory lock key that serialises clones of the template (all workers take it in the admin database). */
const CLONE_LOCK_KEY = 0x66677470; // "fgtp"
/** SQLSTATE object_in_use: "source database … is being accessed by other users". */
const OBJECT_IN_USE = '55006';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function withAdminClient<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** The {@link TestDatabase} named `name`, which `drop()` removes. */
function testDatabase(name: string): TestDatabase {
  return {
    databaseUrl: withDatabase(inject('adminDatabaseUrl'), name),
    drop: () => withAdminClient(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }),
  };
}

/** Creates an empty `fhirgraph_t_<random>` (no schema: nothing migrated), for tests of the migrations. */
export async function createEmptyTestDatabase(): Promise<TestDatabase> {
  const name = `fhirgraph_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  return testDatabase(name);
}

/**
 * Creates `fhirgraph_t_<random>` from the template. PostgreSQL refuses to copy a template that
 * another session is using — including a concurrent `CREATE DATABASE` from it — so clones take an
 * advisory lock, and still retry with backoff for a backend that has not quite gone yet.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = `fhirgraph_t_${randomBytes(6).toString('hex')}`;
  await withAdminClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [CLONE_LOCK_KEY]);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== OBJECT_IN_USE || attempt >= 10) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [CLONE_LOCK_KEY]);
    }
  });
  return testDatabase(name);
}
