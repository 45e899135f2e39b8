/** `fhirgraph keys rotate`: a new token-signing key; prints `{"kid": "...", "retired": [...]}`. */
import { rotateSigningKey } from '../auth/signing-keys.ts';
import type { Config } from '../config.ts';
import { withDatabase } from './with-database.ts';

export async function keysCommand(config: Config, args: string[]): Promise<unknown> {
  if (args.length !== 1 || args[0] !== 'rotate') throw new Error('usage: fhirgraph keys rotate');
  return withDatabase(config, (db) => rotateSigningKey(db));
}
