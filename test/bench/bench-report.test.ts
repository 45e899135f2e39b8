/**
 * The bench's pieces that need no load: argument parsing, the targets judged from results, and
 * the Markdown/SVG report. (The load runs themselves are `npm run bench`, not tests.)
 */
import { describe, expect, it } from 'vitest';
import { BenchArgsError, parseBenchArgs } from '../../bench/lib/bench-args.ts';
import { renderMarkdown, renderSvg } from '../../bench/lib/bench-report.ts';
import { judgeTargets, type BenchResults, type WorkloadResult } from '../../bench/lib/bench-results.ts';
import { median } from '../../bench/lib/load-test.ts';
import { percentile, type SubscriptionLatencyResult } from '../../bench/lib/subscription-latency.ts';

function workload(id: string, target: WorkloadResult['target'], group: string, rps: number, p99 = 10): WorkloadResult {
  const run = { requestsPerSecond: rps, p50Ms: 2, p99Ms: p99, non2xx: 0, errors: 0 };
  return { id, group, title: id, target, runs: [run], median: run };
}

const WORKLOADS = [
  workload('read', 'fhirgraph', 'read', 3000, 20), workload('read-raw', 'raw-sql', 'read', 5000),
  workload('search-name', 'fhirgraph', 'name', 300, 60), workload('search-name-raw', 'raw-sql', 'name', 1000),
  workload('graphql-nested', 'fhirgraph', 'nested', 90), workload('graphql-nested-raw', 'raw-sql', 'nested', 200),
  workload('graphql-nested-postgraphile', 'postgraphile', 'nested', 100),
];
const INGEST = { resources: 10_000, seconds: 5, resourcesPerSecond: 2000, measuredAt: '2026-11-27T00:00:00Z' };

describe('bench arguments', () => {
  it('defaults to the quick 10k run and reads every option', () => {
    expect(parseBenchArgs([])).toMatchObject({ scale: 10_000, scaleLabel: '10k', duration: 8, runs: 3, connections: 16, postgraphile: true });
    expect(parseBenchArgs(['--scale', '1m', '--runs=5', '--no-postgraphile', '--only', 'read,read-raw'])).toMatchObject({
      scale: 1_000_000, scaleLabel: '1m', runs: 5, postgraphile: false, only: ['read', 'read-raw'],
    });
  });

  it('refuses unknown arguments and bad numbers', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(BenchArgsError);
  });
});

describe('targets', () => {
  const targets = judgeTargets(WORKLOADS, INGEST);
  const byTitle = (part: string) => targets.find((t) => t.title.includes(part))!;

  it('judges ratios against the baselines of the same run', () => {
    expect(byTitle('read by id')).toMatchObject({ value: 0.6, pass: true });
    expect(byTitle('Patient?name=')).toMatchObject({ value: 0.3, pass: false });
    expect(byTitle('≥ PostGraphile')).toMatchObject({ value: 0.9, pass: false });
    expect(byTitle('35% of raw')).toMatchObject({ value: 0.45, pass: true });
  });

  it('reports a target without its workloads as not measured, and judges ingest and p99', () => {
    expect(byTitle('Observation?subject')).toMatchObject({ value: null, pass: false, detail: 'not measured' });
    expect(byTitle('Ingest')).toMatchObject({ value: 2000, pass: true });
    expect(targets.filter((t) => t.unit === 'ms').map((t) => t.pass)).toEqual([true, false, false]);
  });

  it('takes the median of runs', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('report', () => {
  const results: BenchResults = {
    startedAt: 'a', finishedAt: 'b', scale: '10k', resources: 10_000,
    machine: { cpus: 2, cpuModel: 'cpu', memoryGb: 24, node: 'v20', postgres: 'PostgreSQL 15' },
    settings: { connections: 16, duration: 8, runs: 3, warmup: 2, serverNodeFlags: ['--import', 'tsx'] },
    ingest: { ...INGEST, kept: false },
    server: { startMs: 1500, startLoggedMs: 1100, schemaBuildMs: 600, rssAfterStartMb: 250, peakRssMb: 400, rssAfterRunMb: 350 },
    graphql: { statementsPerNestedQuery: 3, nestedPatients: 50, nestedObservations: 500 },
    workloads: WORKLOADS,
    targets: judgeTargets(WORKLOADS, INGEST),
  };

  it('puts every workload, its ratio to raw SQL and every target in the Markdown', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('| read | read | fhirgraph | 3,000 | 2.0 | 20.0 | 0.60 |');
    expect(md).toContain('**falls short**');
    expect(md).toContain('3 SQL statements for 50 patients and 500 observations');
  });

  it('reports subscription latency beside NOTIFY → LISTEN, and judges it against 1 s, only when measured', () => {
    const subscriptions: SubscriptionLatencyResult = {
      subscriptions: 1000, connections: 50, events: 40,
      fhirgraph: { samples: 40_000, p50Ms: 80.5, p99Ms: 253.5, maxMs: 272.3 }, listenNotify: { samples: 40, p50Ms: 1, p99Ms: 2.3, maxMs: 2.3 },
    };
    const md = renderMarkdown({ ...results, subscriptions, targets: judgeTargets(WORKLOADS, INGEST, subscriptions) });
    expect(md).toContain('## GraphQL subscriptions (1,000 open on 50 WebSockets, 40 events)');
    expect(md).toContain('| 40,000 | 80.5 | 253.5 | 272.3 |');
    expect(md).toContain('| baseline: PostgreSQL `NOTIFY` sent → received on `LISTEN` | 40 | 1.0 | 2.3 | 2.3 |');
    expect(md).toMatch(/GraphQL subscription event p99 < 1 s .*\| 253\.5 ms \| < 1000 ms \| \*\*pass\*\*/);
    expect(renderMarkdown(results)).not.toContain('GraphQL subscription');
    expect([percentile([5, 1, 4, 2, 3], 50), percentile([5, 1, 4, 2, 3], 99), percentile([], 50)]).toEqual([3, 5, 0]);
  });

  it('adds the webhook deliveries beside their baseline when they were measured', () => {
    expect(renderMarkdown(results)).not.toContain('## Webhooks');
    const md = renderMarkdown({
      ...results,
      webhooks: { events: 2000, concurrency: 16, baselinePerSecond: 4000, livePerSecond: 500, liveP50Ms: 900, liveP99Ms: 2000, replayPerSecond: 800, duplicates: 0 },
    });
    expect(md).toContain('## Webhooks');
    expect(md).toContain('| plain HTTP POSTs from one Node process (baseline) | 4,000 | 1.00 | |');
    expect(md).toContain('| 500 | 0.13 | commit → delivery p50 900 ms, p99 2,000 ms |');
    expect(md).toContain('| 800 | 0.20 | |');
  });

  it('draws one bar per workload in a valid SVG', () => {
    const svg = renderSvg(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x="300"/g)).toHaveLength(WORKLOADS.length);
  });
});
