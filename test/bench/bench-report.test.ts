/**
 * The bench's pieces that need no load: argument parsing, the targets judged from results, and
 * the Markdown/SVG report. (The load runs themselves are `npm run bench`, not tests.)
 */
import { describe, expect, it } from 'vitest';
import { BenchArgsError, parseBenchArgs } from '../../bench/lib/bench-args.ts';
import { renderMarkdown, renderSvg, type ReferenceRun } from '../../bench/lib/bench-report.ts';
import { judgeTargets, type BenchResults, type WorkloadResult } from '../../bench/lib/bench-results.ts';
import { median, medianOf } from '../../bench/lib/load-test.ts';
import { mergeProfiles, renderProfileSummary, sourceOf, summarizeProfile, type CpuProfile } from '../../bench/lib/profile-summary.ts';
import { HS_GROUPS } from '../../bench/lib/workloads.ts';
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
const ISSUE_18 = [
  workload('read-minimal', 'minimal-http', 'read', 7500),
  workload('create', 'fhirgraph', 'writes', 400), workload('create-raw', 'raw-sql', 'writes', 2000),
  workload('crud-mix', 'fhirgraph', HS_GROUPS.crud, 1400), workload('search-mix', 'fhirgraph', HS_GROUPS.search, 400),
  { ...workload('bundle-load', 'fhirgraph', HS_GROUPS.bundle, 21), median: { requestsPerSecond: 21, p50Ms: 2, p99Ms: 10, non2xx: 0, errors: 0, resourcesPerSecond: 2100 } },
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

  it('reads --profile and --users (32 by default), and --only takes the new workload ids but no unknown one', () => {
    expect(parseBenchArgs([])).toMatchObject({ users: 32, profile: false });
    expect(parseBenchArgs(['--profile', '--users=8', '--only', 'crud-mix,search-mix,bundle-load,read-minimal', '--scale', '10002'])).toMatchObject({
      profile: true, users: 8, only: ['crud-mix', 'search-mix', 'bundle-load', 'read-minimal'], scale: 10_002, scaleLabel: '10002',
    });
    expect(() => parseBenchArgs(['--only', 'read,crud'])).toThrow(/--only takes workload ids .*got "crud"/);
    expect(() => parseBenchArgs(['--only', ''])).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(['--users', '0'])).toThrow(BenchArgsError);
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
    const run = (rps: number, res?: number) => ({ requestsPerSecond: rps, p50Ms: 1, p99Ms: 2, non2xx: 0, errors: 0, ...(res === undefined ? {} : { resourcesPerSecond: res }) });
    expect(medianOf([run(1, 100), run(3, 300), run(2, 200)])).toMatchObject({ requestsPerSecond: 2, resourcesPerSecond: 200 });
    expect(medianOf([run(1), run(2)])).not.toHaveProperty('resourcesPerSecond');
  });

  it("judges the issue's new goals: the Health Samurai shapes, create against the raw insert, read against the minimal server", () => {
    const issue = judgeTargets([...WORKLOADS, ...ISSUE_18], INGEST);
    const find = (part: string) => issue.find((t) => t.title.includes(part))!;
    expect(find('CRUD mix ≥ 1,300')).toMatchObject({ value: 1400, unit: 'req/s', pass: true });
    expect(find('search mix ≥ 450')).toMatchObject({ value: 400, unit: 'req/s', pass: false });
    expect(find('Bundle load ≥ 2,000')).toMatchObject({ value: 2100, unit: 'resources/s', pass: true, detail: 'p50 2 ms, p99 10 ms, 21 Bundles/s' });
    expect(find('POST /fhir/Patient ≥ 0.5')).toMatchObject({ value: 0.2, pass: false, detail: '400 / 2000 req/s' });
    expect(find('minimal Node http')).toMatchObject({ value: 0.4, pass: false, detail: '3000 / 7500 req/s' });
    // Absent workloads are not measured, and fail.
    expect(targets.find((t) => t.title.includes('CRUD mix'))).toMatchObject({ value: null, pass: false, detail: 'not measured' });
    expect(targets.find((t) => t.title.includes('Bundle load'))).toMatchObject({ value: null, pass: false });
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

  it('prints the minimal-server ratio, the Bundle load in resources/s, and the Health Samurai shapes beside the published figures', () => {
    const all = [...WORKLOADS, ...ISSUE_18];
    const md = renderMarkdown({ ...results, workloads: all, targets: judgeTargets(all, INGEST) });
    expect(md).toMatch(/\| read \| read \| fhirgraph \| 3,000 \| 2\.0 \| 20\.0 \| 0\.60 \| 3,000 \| 0 \| 0\.40 \|/);
    expect(md).toContain('| 21 (2,100 res/s) |');
    expect(md).toContain('## Health Samurai shapes beside published figures');
    expect(md).toContain('https://healthsamurai.github.io/fhir-server-performance-benchmark');
    expect(md).toContain('| fhirgraph (this run) | Aidbox (8 vCPU) | HAPI FHIR (8 vCPU) | Medplum (8 vCPU) |');
    expect(md).toContain(`| ${HS_GROUPS.crud}, req/s | 1,400 | ~5,200 | ~3,050 | ~1,420 |`);
    expect(md).toContain(`| ${HS_GROUPS.search}, req/s | 400 | – | ~1,000 | ~1,800 |`);
    expect(md).toContain(`| ${HS_GROUPS.bundle}, resources/s | 2,100 |`);
    expect(md).toMatch(/Health Samurai CRUD mix ≥ 1,300 req\/s \(issue 18\) \| 1,400 \/s \| >= 1,300 \/s \| \*\*pass\*\*/);
    expect(renderMarkdown(results)).not.toContain('Health Samurai shapes beside');
  });

  it("prints the reference run's figure beside each workload and target it measured, with its date", () => {
    const reference: ReferenceRun = {
      scale: '1m', startedAt: '2026-11-27T15:14:38.011Z',
      workloads: [workload('read', 'fhirgraph', 'read', 2569, 29)],
      targets: [{ title: judgeTargets(WORKLOADS, INGEST)[0].title, value: 0.68, unit: 'ratio', comparator: '>=', threshold: 0.5, pass: true, detail: '' }],
    };
    const md = renderMarkdown(results, reference);
    expect(md).toContain('| non-2xx | vs minimal server | 1m (2026-11-27) req/s |');
    expect(md).toContain('the committed 1m run of 2026-11-27 (`bench/results/1m.json`)');
    expect(md).toMatch(/\| read \| read \| fhirgraph \| 3,000 .*\| 2,569 \|$/m);
    expect(md).toMatch(/\| search-name \| fhirgraph .*\| – \|$/m);
    expect(md).toMatch(/REST read by id with a token ≥ 50% of raw SQL \| 0\.60 .*\| 0\.68 \(pass\) \|$/m);
    expect(md).toContain('| target | measured | needs | result | detail | 1m (2026-11-27) |');
    expect(renderMarkdown(results)).not.toContain('1m (');
  });

  it('lists the CPU profiles with their summaries when the run was profiled', () => {
    const md = renderMarkdown({ ...results, profiles: [{ id: 'read', summaryFile: 'bench/results/profiles/10k/read.md', busyMs: 7400, gcShare: 0.125, topFiles: [{ name: 'fastify', ms: 900, share: 0.12 }, { name: 'pg', ms: 600, share: 0.08 }] }] });
    expect(md).toContain('## CPU profiles');
    expect(md).toContain('| read | `bench/results/profiles/10k/read.md` | 7.4 | 12.5% | fastify 12.0%, pg 8.0% |');
    expect(renderMarkdown(results)).not.toContain('## CPU profiles');
  });

  it('draws one bar per workload in a valid SVG', () => {
    const svg = renderSvg(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<rect x="300"/g)).toHaveLength(WORKLOADS.length);
  });
});

describe('CPU profile summaries', () => {
  const ROOT = '/repo';
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '1' });
  /** root → handler (src) → pg's parse; plus idle and GC; 1 ms between samples. */
  const profile = (start: number): CpuProfile => ({
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
      { id: 2, callFrame: frame('handleRead', 'file:///repo/src/rest/read.ts', 9), children: [3] },
      { id: 3, callFrame: frame('parse', 'file:///repo/node_modules/pg-protocol/dist/parser.js', 40) },
      { id: 4, callFrame: frame('(garbage collector)', '') },
      { id: 5, callFrame: frame('(idle)', '') },
    ],
    startTime: start, endTime: start + 10_000,
    samples: [2, 3, 3, 3, 4, 5, 5, 5, 5, 2],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  });

  it('says where code lives: an npm package (scoped too), node built-ins, a repository file, V8 pseudo-frames', () => {
    expect(sourceOf('file:///repo/node_modules/@apollo/server/dist/esm/index.js', 'f', ROOT)).toBe('@apollo/server');
    expect(sourceOf('file:///repo/node_modules/a/node_modules/pg/lib/client.js', 'f', ROOT)).toBe('pg');
    expect(sourceOf('node:internal/streams/readable', 'f', ROOT)).toBe('node: built-in modules');
    expect(sourceOf('file:///repo/src/graphql/execute.ts', 'f', ROOT)).toBe('src/graphql/execute.ts');
    expect(sourceOf('', '(garbage collector)', ROOT)).toBe('(garbage collector)');
    expect(sourceOf('', 'JSONParse', ROOT)).toBe('(native: V8 built-ins and Node bindings)');
  });

  it('adds up self time per function and per file or package, shares of the busy time', () => {
    const s = summarizeProfile(profile(0), 15, ROOT);
    // 10 samples: the last runs to endTime (1 ms); 4 idle, 6 busy.
    expect([s.totalMs, s.busyMs, s.gcShare]).toEqual([10, 6, 0.167]);
    expect(s.files).toEqual([
      { name: 'pg-protocol', ms: 3, share: 0.5 },
      { name: 'src/rest/read.ts', ms: 2, share: 0.333 },
      { name: '(garbage collector)', ms: 1, share: 0.167 },
    ]);
    expect(s.functions[0]).toEqual({ name: 'parse (pg-protocol)', ms: 3, share: 0.5 });
    expect(s.functions[1].name).toBe('handleRead (src/rest/read.ts:10)');
    const md = renderProfileSummary('read', 'bench/results/profiles/10k/read.cpuprofile', s);
    expect(md).toContain('| pg-protocol | 3 | 50.0% |');
    expect(md).toContain('garbage collection 16.7% of the busy time');
  });

  it("merges a workload's runs into one profile without the gaps between them", () => {
    const merged = mergeProfiles([profile(0), profile(1_000_000)]);
    expect(merged.nodes.filter((n) => n.callFrame.functionName === '(root)')).toHaveLength(1);
    expect(merged.endTime - merged.startTime).toBe(20_000);
    expect(merged.samples).toHaveLength(20);
    expect(new Set(merged.nodes.map((n) => n.id)).size).toBe(merged.nodes.length);
    const s = summarizeProfile(merged, 15, ROOT);
    expect([s.totalMs, s.busyMs]).toEqual([20, 12]);
    expect(s.files[0]).toEqual({ name: 'pg-protocol', ms: 6, share: 0.5 });
  });
});
