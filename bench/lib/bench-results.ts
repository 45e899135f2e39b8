/**
 * The benchmark's results (written to `bench/results/latest.json`) and the issue's targets, each
 * judged pass or fall-short from figures of the same run.
 */
import type { SeedFigure } from './bench-database.ts';
import type { RunFigures } from './load-test.ts';
import type { TelemetryCostFigures } from './telemetry-cost.ts';
import type { SelfTime } from './profile-summary.ts';
import type { SubscriptionLatencyResult } from './subscription-latency.ts';
import type { Target } from './workloads.ts';
import type { WebhookFigures } from '../webhooks/webhook-throughput.ts';
import type { ExportFigures } from '../export/export-throughput.ts';

export interface WorkloadResult {
  id: string;
  group: string;
  title: string;
  target: Target;
  runs: RunFigures[];
  median: RunFigures;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  scale: string;
  resources: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; postgres: string };
  /** `users`: virtual users of the Health Samurai shapes; `profile`: the run sampled CPU profiles (its figures are slowed by it). */
  settings: { connections: number; duration: number; runs: number; warmup: number; serverNodeFlags: string[]; users?: number; profile?: boolean };
  ingest: SeedFigure & { kept: boolean };
  server: { startMs: number; startLoggedMs?: number; schemaBuildMs?: number; rssAfterStartMb: number; peakRssMb: number; rssAfterRunMb: number };
  graphql: { statementsPerNestedQuery?: number; nestedPatients: number; nestedObservations: number };
  workloads: WorkloadResult[];
  /** Commit-to-subscriber latency with 1,000 subscriptions, beside NOTIFY → LISTEN (absent when `--only` leaves it out). */
  subscriptions?: SubscriptionLatencyResult;
  /** Webhook deliveries per second beside plain POSTs (absent when `--only` leaves `webhooks` out). */
  webhooks?: WebhookFigures;
  /** Bulk Data `$export` throughput and peak RSS (absent when `--only` leaves `export` out). */
  export?: ExportFigures;
  /** The read workload with each telemetry setting, beside all off (absent when `--only` leaves `telemetry-cost` out). */
  telemetry?: TelemetryCostFigures;
  targets: TargetResult[];
  /** With `--profile`: each profiled workload's summary file and its head. */
  profiles?: ProfiledWorkload[];
}

export interface ProfiledWorkload {
  id: string;
  /** The Markdown summary, relative to the repository. */
  summaryFile: string;
  busyMs: number;
  gcShare: number;
  topFiles: SelfTime[];
}

export interface TargetResult {
  title: string;
  /** The measured value: a ratio, requests or resources per second, or milliseconds. */
  value: number | null;
  unit: 'ratio' | 'req/s' | 'resources/s' | 'ms';
  /** `>=` or `<`. */
  comparator: '>=' | '<';
  threshold: number;
  pass: boolean;
  detail: string;
}

const rps = (results: WorkloadResult[], id: string) => results.find((w) => w.id === id)?.median.requestsPerSecond;

function ratioTarget(results: WorkloadResult[], title: string, subject: string, baseline: string, threshold: number): TargetResult {
  const a = rps(results, subject);
  const b = rps(results, baseline);
  const value = a !== undefined && b ? Math.round((a / b) * 100) / 100 : null;
  return {
    title, value, unit: 'ratio', comparator: '>=', threshold, pass: value !== null && value >= threshold,
    detail: value === null ? 'not measured' : `${a} / ${b} req/s`,
  };
}

/** A throughput goal: a workload's median requests (or, for the Bundle load, resources) per second. */
function throughputTarget(results: WorkloadResult[], title: string, id: string, threshold: number, unit: 'req/s' | 'resources/s'): TargetResult {
  const w = results.find((x) => x.id === id);
  const value = (unit === 'req/s' ? w?.median.requestsPerSecond : w?.median.resourcesPerSecond) ?? null;
  return {
    title, value, unit, comparator: '>=', threshold, pass: value !== null && value >= threshold,
    detail: !w ? 'not measured' : `p50 ${w.median.p50Ms} ms, p99 ${w.median.p99Ms} ms${unit === 'resources/s' ? `, ${w.median.requestsPerSecond} Bundles/s` : ''}`,
  };
}

/**
 * The issue's targets (the ingest floor from DECISIONS.md §10; the issue's 5,000/s is printed
 * beside it), and when measured, issue 16's: events reach subscribers within 1 s of the commit.
 */
export function judgeTargets(workloads: WorkloadResult[], ingest: SeedFigure, subscriptions?: SubscriptionLatencyResult): TargetResult[] {
  const targets = [
    ratioTarget(workloads, 'REST read by id with a token ≥ 50% of raw SQL', 'read', 'read-raw', 0.5),
    ratioTarget(workloads, 'REST search Patient?name= ≥ 40% of raw SQL', 'search-name', 'search-name-raw', 0.4),
    ratioTarget(workloads, 'REST search Observation?subject&code&date ≥ 40% of raw SQL', 'search-obs', 'search-obs-raw', 0.4),
    ratioTarget(workloads, 'GraphQL nested query ≥ PostGraphile', 'graphql-nested', 'graphql-nested-postgraphile', 1),
    ratioTarget(workloads, 'GraphQL nested query ≥ 35% of raw SQL', 'graphql-nested', 'graphql-nested-raw', 0.35),
    {
      title: 'Ingest through transaction Bundles ≥ 1,000 resources/s (DECISIONS §10; the issue asks 5,000)',
      value: ingest.resourcesPerSecond, unit: 'resources/s' as const, comparator: '>=' as const, threshold: 1000,
      pass: ingest.resourcesPerSecond >= 1000, detail: `${ingest.resources} resources in ${ingest.seconds} s; ${ingest.resourcesPerSecond >= 5000 ? 'meets' : 'short of'} the issue's 5,000/s`,
    },
    // Issue 18 (performance): the Health Samurai shapes on 2 cores, and the ratios it adds.
    throughputTarget(workloads, 'Health Samurai CRUD mix ≥ 1,300 req/s (issue 18)', 'crud-mix', 1300, 'req/s'),
    throughputTarget(workloads, 'Health Samurai search mix ≥ 450 req/s (issue 18)', 'search-mix', 450, 'req/s'),
    throughputTarget(workloads, 'Health Samurai Bundle load ≥ 2,000 resources/s (issue 18)', 'bundle-load', 2000, 'resources/s'),
    ratioTarget(workloads, 'POST /fhir/Patient ≥ 0.5 of the raw two-row insert (issue 18)', 'create', 'create-raw', 0.5),
    ratioTarget(workloads, 'REST read by id with a token ≥ 0.5 of the minimal Node http + pg server (issue 18)', 'read', 'read-minimal', 0.5),
  ];
  for (const id of ['read', 'search-name', 'search-obs']) {
    const w = workloads.find((x) => x.id === id);
    const value = w ? w.median.p99Ms : null;
    targets.push({
      title: `p99 < 50 ms at the bench's concurrency: ${w?.title ?? id}`, value, unit: 'ms', comparator: '<', threshold: 50,
      pass: value !== null && value < 50, detail: value === null ? 'not measured' : `p50 ${w!.median.p50Ms} ms`,
    });
  }
  if (subscriptions) {
    const { fhirgraph, listenNotify } = subscriptions;
    targets.push({
      title: `GraphQL subscription event p99 < 1 s from the write, ${subscriptions.subscriptions.toLocaleString('en-US')} subscriptions open (issue 16)`,
      value: fhirgraph.p99Ms, unit: 'ms', comparator: '<', threshold: 1000, pass: fhirgraph.p99Ms < 1000,
      detail: `p50 ${fhirgraph.p50Ms} ms; NOTIFY → LISTEN p50 ${listenNotify.p50Ms} ms, p99 ${listenNotify.p99Ms} ms`,
    });
  }
  return targets;
}
