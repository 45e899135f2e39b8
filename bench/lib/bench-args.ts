/**
 * Command-line arguments of `npm run bench`: `--scale 10k|100k|1m|N`, `--duration S` (seconds per
 * measured run), `--runs N`, `--warmup S`, `--connections N`, `--reseed`, `--no-postgraphile`,
 * `--only a,b` (workload ids). `--name value` and `--name=value` are both accepted.
 */
import { parseScale } from './bench-scale.ts';

export interface BenchArgs {
  scale: number;
  scaleLabel: string;
  duration: number;
  runs: number;
  warmup: number;
  connections: number;
  /** Drop and reload the bench database even when it holds this scale's data already. */
  reseed: boolean;
  postgraphile: boolean;
  only?: string[];
  /** Resources of the `$export` bench's own data set. */
  exportResources: number;
  help: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [--scale 10k|100k|1m|N] [--duration S] [--runs N] [--warmup S]
                       [--connections N] [--reseed] [--no-postgraphile] [--only id,id] [--export-resources N]
  --scale        data set, loaded by the seed generator through transaction Bundles (default 10k)
  --duration     seconds per measured run of a workload (default 8)
  --runs         measured runs per workload; the report gives medians (default 3)
  --warmup       seconds of warm-up before a workload's runs (default 2)
  --connections  concurrent connections of the load generator (default 16)
  --reseed       reload the data even if the bench database already holds it (10k always reloads)
  --no-postgraphile  skip the PostGraphile baseline
  --only         run only these workloads (ids as in the report; "webhooks" for webhook deliveries,
                 "subscription-latency" for the GraphQL subscription latency with 1,000 open,
                 "export" for Bulk Data $export throughput and peak RSS; --only export runs it alone)
  --export-resources  resources of the $export bench's own data set, loaded with SQL (default 1000000)`;

export class BenchArgsError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { scale: 10_000, scaleLabel: '10k', duration: 8, runs: 3, warmup: 2, connections: 16, reseed: false, postgraphile: true, exportResources: 1_000_000, help: false };
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
      case '--reseed': args.reseed = true; break;
      case '--no-postgraphile': args.postgraphile = false; break;
      case '--only': args.only = String(value()).split(',').filter(Boolean); break;
      case '--export-resources': args.exportResources = Math.round(number('export-resources', value(), 10)); break;
      case '--help': case '-h': args.help = true; break;
      default: throw new BenchArgsError(`unknown argument "${argv[i]}"`);
    }
  }
  return args;
}
