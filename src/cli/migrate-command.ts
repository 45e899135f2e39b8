/** `fhirgraph migrate`: applies pending migrations and prints `{"migrated": true}`. */
import type { Config } from '../config.ts';
import { migrateDatabase } from '../store/migrate.ts';
import { resolveCliDatabase } from './with-database.ts';

export async function migrateCommand(config: Config, args: string[]): Promise<{ migrated: true }> {
  if (args.length > 0) throw new Error(`migrate takes no arguments, got "${args.join(' ')}"`);
  const database = await resolveCliDatabase(config);
  try {
    await migrateDatabase(database.databaseUrl);
  } finally {
    await database.stop();
  }
  return { migrated: true };
}
