/**
 * Command-line arguments of `npm run seed`: `--scale 10k|100k|1m|N`, `--seed N`, `--url URL` with
 * `--token TOKEN` or `--refresh-token RT`, `--concurrency N`, `--bundle-size N`. Both `--name value`
 * and `--name=value` are accepted; anything else is an error with the usage text.
 */
import { trimTrailingSlashes } from '../../src/config.ts';
import { DEFAULT_BUNDLE_SIZE } from './generate-bundles.ts';

/** The parsed arguments. */
export interface SeedArgs {
  scale: number;
  seed: number;
  /** A running server's base URL (no `/fhir`); absent: start one in process. */
  url?: string;
  token?: string;
  refreshToken?: string;
  concurrency: number;
  bundleSize: number;
  help: boolean;
}

/** The usage text printed with `--help` and with every argument error. */
export const SEED_USAGE = `usage: npm run seed -- [--scale 10k|100k|1m|N] [--seed N] [--concurrency N] [--bundle-size N]
                      [--url URL (--token TOKEN | --refresh-token RT)]
  --scale        total resources to load, roughly (default 10k)
  --seed         random seed; the same seed and scale load the same data (default 1)
  --url          a running fhirgraph server, e.g. http://localhost:8080 (default: start one in process,
                 on DATABASE_URL or the embedded PostgreSQL in DATA_DIR)
  --token        an access token with system/*.write for --url
  --refresh-token  an API-key client's refresh token for --url (refreshed before the 15 minutes run out)
  --concurrency  transaction bundles in flight at once (default 2)
  --bundle-size  entries per transaction bundle (default ${DEFAULT_BUNDLE_SIZE})`;

/** A usage error (exit status 2). */
export class SeedArgsError extends Error {
  override name = 'SeedArgsError';
}

/** Parses `10k`, `100k`, `1m`, `2.5k`, `10000`, `10_000` into a positive integer. */
export function parseScale(text: string): number {
  const m = /^([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmM]?)$/.exec(text.trim());
  if (!m) throw new SeedArgsError(`--scale must be a number such as 600, 10k, 100k or 1m, got "${text}"`);
  const value = Number(m[1].replace(/[_,]/g, '')) * (m[2].toLowerCase() === 'k' ? 1_000 : m[2].toLowerCase() === 'm' ? 1_000_000 : 1);
  if (!Number.isFinite(value) || value < 1 || value > 100_000_000) throw new SeedArgsError(`--scale must be between 1 and 100m, got "${text}"`);
  return Math.round(value);
}

function parseInteger(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new SeedArgsError(`--${name} must be an integer in [${min}, ${max}], got "${text}"`);
  }
  return value;
}

const TAKES_VALUE = new Set(['scale', 'seed', 'url', 'token', 'refresh-token', 'concurrency', 'bundle-size']);

/** Parses `argv` (without the node and script paths). */
export function parseSeedArgs(argv: readonly string[]): SeedArgs {
  const args: SeedArgs = { scale: 10_000, seed: 1, concurrency: 2, bundleSize: DEFAULT_BUNDLE_SIZE, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      args.help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m || !TAKES_VALUE.has(m[1])) throw new SeedArgsError(`unknown argument "${arg}"`);
    const name = m[1];
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new SeedArgsError(`--${name} needs a value`);
    switch (name) {
      case 'scale': args.scale = parseScale(value); break;
      case 'seed': args.seed = parseInteger(name, value, 0, 2 ** 32 - 1); break;
      case 'concurrency': args.concurrency = parseInteger(name, value, 1, 256); break;
      case 'bundle-size': args.bundleSize = parseInteger(name, value, 1, 100_000); break;
      case 'url': args.url = parseUrl(value); break;
      case 'token': args.token = value; break;
      case 'refresh-token': args.refreshToken = value; break;
    }
  }
  if (args.url && !args.token && !args.refreshToken) throw new SeedArgsError('--url needs --token or --refresh-token');
  if (!args.url && (args.token || args.refreshToken)) throw new SeedArgsError('--token and --refresh-token go with --url');
  return args;
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SeedArgsError(`--url must be an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SeedArgsError(`--url must be an http(s) URL, got "${text}"`);
  // Accept the FHIR base too: `http://host:8080/fhir` means the server `http://host:8080`.
  return trimTrailingSlashes(url.toString()).replace(/\/fhir$/, '');
}
