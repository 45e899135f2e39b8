/**
 * Renders the results: a Markdown report (tables of workloads with their ratios to the group's
 * baselines, the targets, the Health Samurai shapes beside other servers' published figures, the
 * server figures, the CPU profiles' summaries) and an SVG bar chart of throughput per group. The
 * console gets the Markdown. Given a reference run (the committed `bench/results/1m.json`), each
 * figure is printed beside that run's figure for the same workload or target.
 */
import type { BenchResults, TargetResult, WorkloadResult } from './bench-results.ts';
import { exportLines } from '../export/export-throughput.ts';
import { telemetryCostLines } from './telemetry-cost.ts';
import { PUBLISHED_FIGURES, PUBLISHED_FIGURES_URL } from '../health-samurai/published-figures.ts';
import { HS_GROUPS } from './workloads.ts';

/** The figures of an earlier run printed beside this one's (the last committed 1m run). */
export type ReferenceRun = Pick<BenchResults, 'scale' | 'startedAt' | 'workloads' | 'targets'>;

const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function baselineOf(w: WorkloadResult, all: WorkloadResult[]): WorkloadResult | undefined {
  return w.target === 'fhirgraph' ? all.find((x) => x.group === w.group && x.target === 'raw-sql') : undefined;
}

function minimalOf(w: WorkloadResult, all: WorkloadResult[]): WorkloadResult | undefined {
  return w.target === 'fhirgraph' ? all.find((x) => x.group === w.group && x.target === 'minimal-http') : undefined;
}

const targetValue = (t: Pick<TargetResult, 'unit' | 'value'>) => (t.unit === 'ratio' ? fmt(t.value, 2) : t.unit === 'ms' ? `${fmt(t.value, 1)} ms` : `${fmt(t.value)} /s`);

function targetLine(t: TargetResult, reference?: ReferenceRun): string {
  const threshold = t.unit === 'ratio' ? fmt(t.threshold, 2) : t.unit === 'ms' ? `${t.threshold} ms` : `${fmt(t.threshold)} /s`;
  const before = reference?.targets.find((x) => x.title === t.title);
  const extra = reference ? ` ${before ? `${targetValue(before)} (${before.pass ? 'pass' : 'falls short'})` : '–'} |` : '';
  return `| ${t.title} | ${targetValue(t)} | ${t.comparator} ${threshold} | ${t.pass ? '**pass**' : '**falls short**'} | ${t.detail} |${extra}`;
}

/** Requests per second, and for the Bundle load the resources per second it carried. */
const throughput = (m: WorkloadResult['median']) => `${fmt(m.requestsPerSecond)}${m.resourcesPerSecond === undefined ? '' : ` (${fmt(m.resourcesPerSecond)} res/s)`}`;

const day = (iso: string) => iso.slice(0, 10);

export function renderMarkdown(r: BenchResults, reference?: ReferenceRun): string {
  const refHead = reference ? ` ${reference.scale} (${day(reference.startedAt)}) req/s |` : '';
  const refRule = reference ? '---:|' : '';
  const lines = [
    `# fhirgraph benchmark — scale ${r.scale} (${fmt(r.resources)} resources)`,
    '',
    `${r.startedAt} → ${r.finishedAt}. ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB; Node ${r.machine.node}; ${r.machine.postgres}.`,
    `autocannon, ${r.settings.connections} connections, ${r.settings.warmup} s warm-up, then ${r.settings.runs} runs of ${r.settings.duration} s per workload, interleaved with the group's baselines; medians. Throughput counts 2xx answers only. The server runs as \`node ${r.settings.serverNodeFlags.join(' ')} bench/serve-fhirgraph.ts\` (\`src/main.ts\` plus the raw-SQL baseline routes).`,
    '',
    `The Health Samurai shapes run with ${r.settings.users ?? 32} virtual users of a load generator of the bench's own (\`bench/lib/scenario-load.ts\`), each user's requests one after another.`,
    ...(reference ? [`The last column is the committed ${reference.scale} run of ${day(reference.startedAt)} (\`bench/results/${reference.scale}.json\`), where it measured the same workload or target.`] : []),
    '',
    `| group | workload | server | req/s | p50 ms | p99 ms | vs raw SQL | runs (req/s) | non-2xx | vs minimal server |${refHead}`,
    `|---|---|---|---:|---:|---:|---:|---|---:|---:|${refRule}`,
  ];
  for (const w of r.workloads) {
    const base = baselineOf(w, r.workloads);
    const ratio = base ? fmt(w.median.requestsPerSecond / base.median.requestsPerSecond, 2) : '';
    const minimal = minimalOf(w, r.workloads);
    const toMinimal = minimal ? fmt(w.median.requestsPerSecond / minimal.median.requestsPerSecond, 2) : '';
    const before = reference?.workloads.find((x) => x.id === w.id);
    const refCell = reference ? ` ${before ? throughput(before.median) : '–'} |` : '';
    lines.push(`| ${w.group} | ${w.title} | ${w.target} | ${throughput(w.median)} | ${fmt(w.median.p50Ms, 1)} | ${fmt(w.median.p99Ms, 1)} | ${ratio} | ${w.runs.map((x) => fmt(x.requestsPerSecond)).join(', ')} | ${w.median.non2xx + w.median.errors} | ${toMinimal} |${refCell}`);
  }
  lines.push(
    '',
    '## Targets',
    '',
    `| target | measured | needs | result | detail |${reference ? ` ${reference.scale} (${day(reference.startedAt)}) |` : ''}`,
    `|---|---:|---:|---|---|${reference ? '---:|' : ''}`,
    ...r.targets.map((t) => targetLine(t, reference)),
    '',
    ...healthSamuraiLines(r),
    '## Server and data',
    '',
    `- Ingest (seed through \`/fhir\` transaction Bundles, ${r.ingest.kept ? `kept from ${r.ingest.measuredAt}` : 'this run'}): ${fmt(r.ingest.resources)} resources in ${fmt(r.ingest.seconds, 1)} s = **${fmt(r.ingest.resourcesPerSecond)} resources/s**.`,
    `- Start: ${fmt(r.server.startMs)} ms from spawn to a healthy \`/healthz\` (the server's own count: ${fmt(r.server.startLoggedMs)} ms; GraphQL schema build ${fmt(r.server.schemaBuildMs)} ms).`,
    `- Memory: RSS ${fmt(r.server.rssAfterStartMb)} MB after start, ${fmt(r.server.rssAfterRunMb)} MB after the run, peak ${fmt(r.server.peakRssMb)} MB.`,
    `- GraphQL nested query: ${r.graphql.statementsPerNestedQuery ?? '–'} SQL statements for ${r.graphql.nestedPatients} patients and ${r.graphql.nestedObservations} observations.`,
    '',
  );
  if (r.profiles?.length) lines.push(...profileLines(r.profiles));
  if (r.subscriptions) lines.push(...subscriptionLines(r.subscriptions));
  if (r.webhooks) lines.push(...webhookLines(r.webhooks));
  if (r.export) lines.push(...exportLines(r.export));
  if (r.telemetry) lines.push(...telemetryCostLines(r.telemetry));
  return lines.join('\n');
}

/** The Health Samurai shapes beside the figures other servers reach on them in Health Samurai's runs. */
function healthSamuraiLines(r: BenchResults): string[] {
  const of = (id: string) => r.workloads.find((w) => w.id === id)?.median;
  const crud = of('crud-mix');
  const search = of('search-mix');
  const bundle = of('bundle-load');
  if (!crud && !search && !bundle) return [];
  const cell = (n: number | undefined) => (n === undefined ? '–' : `~${fmt(n)}`);
  return [
    '## Health Samurai shapes beside published figures',
    '',
    `fhirgraph here: ${r.machine.cpus} cores shared by fhirgraph, PostgreSQL and the load generator, ${r.settings.users ?? 32} users. The other columns are those servers' figures on the same shapes as Health Samurai publishes them (${PUBLISHED_FIGURES_URL}): 8 vCPU per server on a dedicated host, so they are anchors, not a like-for-like comparison.`,
    '',
    `| shape | fhirgraph (this run) | ${PUBLISHED_FIGURES.map((p) => `${p.server} (8 vCPU)`).join(' | ')} |`,
    `|---|---:|${PUBLISHED_FIGURES.map(() => '---:').join('|')}|`,
    `| ${HS_GROUPS.crud}, req/s | ${crud ? fmt(crud.requestsPerSecond) : '–'} | ${PUBLISHED_FIGURES.map((p) => cell(p.crudPerSecond)).join(' | ')} |`,
    `| ${HS_GROUPS.search}, req/s | ${search ? fmt(search.requestsPerSecond) : '–'} | ${PUBLISHED_FIGURES.map((p) => cell(p.searchPerSecond)).join(' | ')} |`,
    `| ${HS_GROUPS.bundle}, resources/s | ${bundle?.resourcesPerSecond === undefined ? '–' : fmt(bundle.resourcesPerSecond)} | ${PUBLISHED_FIGURES.map((p) => cell(p.bundleResourcesPerSecond)).join(' | ')} |`,
    '',
  ];
}

/** Where each workload's CPU profile went, and what its summary says first. */
function profileLines(profiles: NonNullable<BenchResults['profiles']>): string[] {
  return [
    '## CPU profiles (fhirgraph process, sampled during the measured runs)',
    '',
    '| workload | summary | busy s | GC | top files and packages by self time |',
    '|---|---|---:|---:|---|',
    ...profiles.map((p) => `| ${p.id} | \`${p.summaryFile}\` | ${fmt(p.busyMs / 1000, 1)} | ${fmt(p.gcShare * 100, 1)}% | ${p.topFiles.slice(0, 4).map((f) => `${f.name} ${fmt(f.share * 100, 1)}%`).join(', ')} |`),
    '',
  ];
}

/** The subscription latency section: fhirgraph beside the NOTIFY → LISTEN round trip of the same run. */
function subscriptionLines(s: NonNullable<BenchResults['subscriptions']>): string[] {
  return [
    `## GraphQL subscriptions (${fmt(s.subscriptions)} open on ${fmt(s.connections)} WebSockets, ${fmt(s.events)} events)`,
    '',
    '| path | samples | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|',
    `| fhirgraph: \`POST /fhir/Patient\` sent → event received, every subscriber | ${fmt(s.fhirgraph.samples)} | ${fmt(s.fhirgraph.p50Ms, 1)} | ${fmt(s.fhirgraph.p99Ms, 1)} | ${fmt(s.fhirgraph.maxMs, 1)} |`,
    `| baseline: PostgreSQL \`NOTIFY\` sent → received on \`LISTEN\` | ${fmt(s.listenNotify.samples)} | ${fmt(s.listenNotify.p50Ms, 1)} | ${fmt(s.listenNotify.p99Ms, 1)} | ${fmt(s.listenNotify.maxMs, 1)} |`,
    '',
  ];
}

/** The webhook section: deliveries per second beside one process's plain POSTs to the same receiver. */
function webhookLines(w: NonNullable<BenchResults['webhooks']>): string[] {
  return [
    '## Webhooks',
    '',
    `${fmt(w.events)} events to a receiver on loopback that answers 200 at once; ${w.concurrency} attempts at once (\`WEBHOOK_CONCURRENCY\`).`,
    '',
    '| measure | per second | vs plain POSTs | latency |',
    '|---|---:|---:|---|',
    `| plain HTTP POSTs from one Node process (baseline) | ${fmt(w.baselinePerSecond)} | 1.00 | |`,
    `| live: committed in transaction Bundles and delivered (ingest included) | ${fmt(w.livePerSecond)} | ${fmt(w.livePerSecond / w.baselinePerSecond, 2)} | commit → delivery p50 ${fmt(w.liveP50Ms)} ms, p99 ${fmt(w.liveP99Ms)} ms |`,
    `| \`$replay\` of the same events (matching, queue, POSTs) | ${fmt(w.replayPerSecond)} | ${fmt(w.replayPerSecond / w.baselinePerSecond, 2)} | |`,
    '',
    `Repeated deliveries (at least once): ${fmt(w.duplicates)}.`,
    '',
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of median throughput, one block per group, on a log-free linear scale per group. */
export function renderSvg(r: BenchResults): string {
  const colours: Record<string, string> = { fhirgraph: '#2b6cb0', 'raw-sql': '#a0aec0', postgraphile: '#dd6b20', 'minimal-http': '#718096' };
  const groups = [...new Set(r.workloads.map((w) => w.group))];
  const width = 860;
  const barArea = 420;
  const left = 300;
  const rows: string[] = [];
  let y = 50;
  for (const group of groups) {
    const members = r.workloads.filter((w) => w.group === group);
    const max = Math.max(...members.map((w) => w.median.requestsPerSecond), 1);
    rows.push(`<text x="10" y="${y}" font-weight="bold">${esc(group)}</text>`);
    y += 8;
    for (const w of members) {
      const len = Math.max(1, Math.round((w.median.requestsPerSecond / max) * barArea));
      rows.push(
        `<text x="20" y="${y + 14}">${esc(`${w.target}: ${w.title}`.slice(0, 46))}</text>`,
        `<rect x="${left}" y="${y + 2}" width="${len}" height="16" fill="${colours[w.target]}"/>`,
        `<text x="${left + len + 6}" y="${y + 14}">${fmt(w.median.requestsPerSecond)} req/s${w.median.resourcesPerSecond === undefined ? '' : ` (${fmt(w.median.resourcesPerSecond)} res/s)`} · p99 ${fmt(w.median.p99Ms, 1)} ms</text>`,
      );
      y += 22;
    }
    y += 18;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(`fhirgraph benchmark, scale ${r.scale}: median throughput (bars scaled per group)`)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
