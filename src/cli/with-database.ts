/**
 * Opens the database the way the server finds it (`DATABASE_URL`, else the embedded cluster in
 * `DATA_DIR`, reusing a running one) for one CLI command, and closes everything afterwards.
 */
import type { Config } from '../config.ts';
import { isFhirError } from '../fhir/outcomes.ts';
import { Database } from '../store/database.ts';
import { resolveDatabase } from '../store/resolve-database.ts';

export async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const database = await resolveDatabase(config, (msg) => process.stderr.write(`${msg}\n`));
  try {
    const db = await Database.open(database.databaseUrl, { poolSize: 2 });
    try {
      return await work(db);
    } finally {
      await db.close();
    }
  } catch (err) {
    if (isFhirError(err)) throw new Error(err.message);
    throw err;
  } finally {
    await database.stop();
  }
}
