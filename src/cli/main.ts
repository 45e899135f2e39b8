/**
 * The operator CLI (CONTRACT.md "Operator CLI"): every command prints one JSON object on stdout
 * and exits 0, or prints an error on stderr and exits non-zero. It finds the database like the
 * server does (`DATABASE_URL`, else the embedded cluster in `DATA_DIR`, reusing one that a
 * running server already started).
 */
import { loadConfig } from '../config.ts';
import { clientsCommand } from './clients-command.ts';
import { keysCommand } from './keys-command.ts';
import { migrateCommand } from './migrate-command.ts';
import { reindexCommand } from './reindex-command.ts';

const USAGE = `usage: fhirgraph <command>
commands:
  migrate                                   apply pending database migrations
  clients create --name NAME --scope "SCOPES" [--jwks FILE] [--admin] [--rate "N/s,M/min"]
  clients disable CLIENT_ID
  clients list
  keys rotate                               new token-signing key (the old one keeps verifying)
  reindex [--type T]                        rebuild the search index (all types, or one)`;

const commands: Record<string, (args: string[]) => Promise<unknown>> = {
  migrate: (args) => migrateCommand(loadConfig(), args),
  clients: (args) => clientsCommand(loadConfig(), args),
  keys: (args) => keysCommand(loadConfig(), args),
  reindex: (args) => reindexCommand(loadConfig(), args),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`fhirgraph: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  const result = await command(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fhirgraph: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
