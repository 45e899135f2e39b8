/**
 * Opens the database the way the server finds it (`DATABASE_URL`, else the embedded cluster in
 * `DATA_DIR`, reusing a running one) for one CLI command, and closes everything afterwards. It
 * says on stderr which database that is (without credentials), so an operator sees at once when
 * a command went to another database than the server's.
 */
import type { Config } from '../config.ts';
import { isFhirError } from '../fhir/outcomes.ts';
import { Database } from '../store/database.ts';
import { describeDatabase, resolveDatabase, type ResolvedDatabase } from '../store/resolve-database.ts';

/** Runs `work` on the command's database (see the module comment) and lets go of it afterwards. */
export async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const database = await resolveCliDatabase(config);
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

/** Says on stderr which database the command uses (no credentials), then resolves it like the server. */
export async function resolveCliDatabase(config: Config): Promise<ResolvedDatabase> {
  const log = (msg: string) => process.stderr.write(`fhirgraph: ${msg}\n`);
  log(`using ${describeDatabase(config)}`);
  return resolveDatabase(config, log);
}
