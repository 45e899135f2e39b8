/**
 * `fhirgraph clients create|disable|list` (CONTRACT.md "Operator CLI"), over the same service
 * calls as the admin API.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createClient, disableClientById, listClientSummaries } from '../auth/client-admin.ts';
import type { Config } from '../config.ts';
import { isFhirError } from '../fhir/outcomes.ts';
import { Database } from '../store/database.ts';
import { resolveDatabase } from '../store/resolve-database.ts';

async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
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

async function create(config: Config, args: string[]): Promise<unknown> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      jwks: { type: 'string' },
      admin: { type: 'boolean', default: false },
      rate: { type: 'string' },
    },
    strict: true,
  });
  if (!values.name) throw new Error('clients create needs --name NAME');
  if (!values.scope) throw new Error('clients create needs --scope "SCOPES"');
  let jwks: unknown;
  if (values.jwks) {
    try {
      jwks = JSON.parse(await readFile(values.jwks, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read the JWKS file ${values.jwks}: ${(err as Error).message}`);
    }
  }
  return withDatabase(config, (db) => createClient(db, { name: values.name!, scope: values.scope!, jwks, admin: values.admin, rate: values.rate }));
}

/** Runs a `clients` sub-command and returns the JSON object to print. */
export async function clientsCommand(config: Config, args: string[]): Promise<unknown> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(config, rest);
    case 'disable': {
      if (rest.length !== 1) throw new Error('usage: fhirgraph clients disable CLIENT_ID');
      return withDatabase(config, (db) => disableClientById(db, rest[0]));
    }
    case 'list':
      if (rest.length) throw new Error('usage: fhirgraph clients list');
      return withDatabase(config, (db) => listClientSummaries(db));
    default:
      throw new Error('usage: fhirgraph clients create|disable|list');
  }
}
