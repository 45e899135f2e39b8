/**
 * Command-line arguments of `npm run bench`: `--scale 10k|100k|1m|N`, `--duration S` (seconds per
 * measured run), `--runs N`, `--warmup S`, `--connections N`, `--users N` (virtual users of the
 * Health Samurai shapes), `--reseed`, `--no-postgraphile`, `--profile`, `--only a,b` (workload
 * ids, checked against {@link WORKLOAD_IDS}). `--name value` and `--name=value` are both accepted.
 */
import { parseScale } from './bench-scale.ts';

export interface BenchArgs {
  scale: number;
  scaleLabel: string;
  duration: number;
  runs: number;
  warmup: number;
  connections: number;
  /** Virtual users of the Health Samurai shapes (theirs: 32 in the figures). */
  users: number;
  /** CPU profiles of the fhirgraph process, one per workload, under `bench/results/profiles/<scale>/`. */
  profile: boolean;
  /** Drop and reload the bench database even when it holds this scale's data already. */
  reseed: boolean;
  postgraphile: boolean;
  only?: string[];
  /** Resources of the `$export` bench's own data set. */
  exportResources: number;
  help: boolean;
}

/** What `--only` accepts: the workloads' ids (`workloads.ts`) and the sections measured apart. */
export const WORKLOAD_IDS = [
  'read', 'read-raw', 'read-minimal', 'search-name', 'search-name-raw', 'search-obs', 'search-obs-raw',
  'graphql-nested', 'graphql-nested-raw', 'graphql-nested-postgraphile', 'create', 'graphql-mutation', 'create-raw',
  'crud-mix', 'search-mix', 'bundle-load', 'subscription-latency', 'webhooks', 'export', 'telemetry-cost',
] as const;

export const BENCH_USAGE = `usage: npm run bench -- [--scale 10k|100k|1m|N] [--duration S] [--runs N] [--warmup S]
                       [--connections N] [--users N] [--reseed] [--no-postgraphile] [--profile]
                       [--only id,id] [--export-resources N]
  --scale        data set, loaded by the seed generator through transaction Bundles (default 10k)
  --duration     seconds per measured run of a workload (default 8)
  --runs         measured runs per workload; the report gives medians (default 3)
  --warmup       seconds of warm-up before a workload's runs (default 2)
  --connections  concurrent connections of the load generator (default 16)
  --users        virtual users of the Health Samurai shapes: crud-mix, search-mix, bundle-load (default 32)
  --reseed       reload the data even if the bench database already holds it (10k always reloads)
  --no-postgraphile  skip the PostGraphile baseline
  --profile      CPU-profile the fhirgraph process (inspector on loopback), one profile per workload:
                 bench/results/profiles/<scale>/<workload>.cpuprofile and a .md summary of self time;
                 the sampling slows the server, so a profiled run's figures are not for the table
  --only         run only these workloads: read, read-raw, read-minimal (the minimal Node http + pg
                 server), search-name, search-name-raw, search-obs, search-obs-raw, graphql-nested,
                 graphql-nested-raw, graphql-nested-postgraphile, create, graphql-mutation, create-raw,
                 crud-mix, search-mix, bundle-load (the Health Samurai shapes), "webhooks" for webhook
                 deliveries, "subscription-latency" for the GraphQL subscription latency with 1,000
                 open, "export" for Bulk Data $export throughput and peak RSS (--only export runs it alone),
                 "telemetry-cost" for the read workload with everything off, metrics on and tracing on, side by side
  --export-resources  resources of the $export bench's own data set, loaded with SQL (default 1000000)`;

export class BenchArgsError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { scale: 10_000, scaleLabel: '10k', duration: 8, runs: 3, warmup: 2, connections: 16, users: 32, profile: false, reseed: false, postgraphile: true, exportResources: 1_000_000, help: false };
  const number = (name: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new BenchArgsError(`--${name} must be a number >= ${min}, got "${value}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--scale': { const s = parseScale(value()); args.scale = s.scale; args.scaleLabel = s.label; break; }
      case '--duration': args.duration = number('duration', value(), 1); break;
      case '--runs': args.runs = Math.round(number('runs', value(), 1)); break;
      case '--warmup': args.warmup = number('warmup', value(), 0); break;
      case '--connections': args.connections = Math.round(number('connections', value(), 1)); break;
      case '--users': args.users = Math.round(number('users', value(), 1)); break;
      case '--profile': args.profile = true; break;
      case '--reseed': args.reseed = true; break;
      case '--no-postgraphile': args.postgraphile = false; break;
      case '--only': {
        args.only = String(value()).split(',').filter(Boolean);
        const unknown = args.only.filter((id) => !(WORKLOAD_IDS as readonly string[]).includes(id));
        if (unknown.length || !args.only.length) throw new BenchArgsError(`--only takes workload ids (${WORKLOAD_IDS.join(', ')}), got "${unknown.join(',')}"`);
        break;
      }
      case '--export-resources': args.exportResources = Math.round(number('export-resources', value(), 10)); break;
      case '--help': case '-h': args.help = true; break;
      default: throw new BenchArgsError(`unknown argument "${argv[i]}"`);
    }
  }
  return args;
}
