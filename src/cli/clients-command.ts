/**
 * `fhirgraph clients create|disable|list` (CONTRACT.md "Operator CLI"), over the same service
 * calls as the admin API.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createClient, disableClientById, listClientSummaries } from '../auth/client-admin.ts';
import type { Config } from '../config.ts';
import { withDatabase } from './with-database.ts';

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
