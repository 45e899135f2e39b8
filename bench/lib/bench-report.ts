/**
 * Renders the results: a Markdown report (tables of workloads with their ratios to the group's
 * baselines, the targets, the server figures) and an SVG bar chart of throughput per group. The
 * console gets the Markdown.
 */
import type { BenchResults, TargetResult, WorkloadResult } from './bench-results.ts';
import { exportLines } from '../export/export-throughput.ts';

const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

function baselineOf(w: WorkloadResult, all: WorkloadResult[]): WorkloadResult | undefined {
  return w.target === 'fhirgraph' ? all.find((x) => x.group === w.group && x.target === 'raw-sql') : undefined;
}

function targetLine(t: TargetResult): string {
  const value = t.unit === 'ratio' ? fmt(t.value, 2) : t.unit === 'ms' ? `${fmt(t.value, 1)} ms` : `${fmt(t.value)} /s`;
  const threshold = t.unit === 'ratio' ? fmt(t.threshold, 2) : t.unit === 'ms' ? `${t.threshold} ms` : `${fmt(t.threshold)} /s`;
  return `| ${t.title} | ${value} | ${t.comparator} ${threshold} | ${t.pass ? '**pass**' : '**falls short**'} | ${t.detail} |`;
}

export function renderMarkdown(r: BenchResults): string {
  const lines = [
    `# fhirgraph benchmark — scale ${r.scale} (${fmt(r.resources)} resources)`,
    '',
    `${r.startedAt} → ${r.finishedAt}. ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB; Node ${r.machine.node}; ${r.machine.postgres}.`,
    `autocannon, ${r.settings.connections} connections, ${r.settings.warmup} s warm-up, then ${r.settings.runs} runs of ${r.settings.duration} s per workload, interleaved with the group's baselines; medians. Throughput counts 2xx answers only. The server runs as \`node ${r.settings.serverNodeFlags.join(' ')} bench/serve-fhirgraph.ts\` (\`src/main.ts\` plus the raw-SQL baseline routes).`,
    '',
    '| group | workload | server | req/s | p50 ms | p99 ms | vs raw SQL | runs (req/s) | non-2xx |',
    '|---|---|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const w of r.workloads) {
    const base = baselineOf(w, r.workloads);
    const ratio = base ? fmt(w.median.requestsPerSecond / base.median.requestsPerSecond, 2) : '';
    lines.push(`| ${w.group} | ${w.title} | ${w.target} | ${fmt(w.median.requestsPerSecond)} | ${fmt(w.median.p50Ms, 1)} | ${fmt(w.median.p99Ms, 1)} | ${ratio} | ${w.runs.map((x) => fmt(x.requestsPerSecond)).join(', ')} | ${w.median.non2xx + w.median.errors} |`);
  }
  lines.push(
    '',
    '## Targets',
    '',
    '| target | measured | needs | result | detail |',
    '|---|---:|---:|---|---|',
    ...r.targets.map(targetLine),
    '',
    '## Server and data',
    '',
    `- Ingest (seed through \`/fhir\` transaction Bundles, ${r.ingest.kept ? `kept from ${r.ingest.measuredAt}` : 'this run'}): ${fmt(r.ingest.resources)} resources in ${fmt(r.ingest.seconds, 1)} s = **${fmt(r.ingest.resourcesPerSecond)} resources/s**.`,
    `- Start: ${fmt(r.server.startMs)} ms from spawn to a healthy \`/healthz\` (the server's own count: ${fmt(r.server.startLoggedMs)} ms; GraphQL schema build ${fmt(r.server.schemaBuildMs)} ms).`,
    `- Memory: RSS ${fmt(r.server.rssAfterStartMb)} MB after start, ${fmt(r.server.rssAfterRunMb)} MB after the run, peak ${fmt(r.server.peakRssMb)} MB.`,
    `- GraphQL nested query: ${r.graphql.statementsPerNestedQuery ?? '–'} SQL statements for ${r.graphql.nestedPatients} patients and ${r.graphql.nestedObservations} observations.`,
    '',
  );
  if (r.subscriptions) lines.push(...subscriptionLines(r.subscriptions));
  if (r.webhooks) lines.push(...webhookLines(r.webhooks));
  if (r.export) lines.push(...exportLines(r.export));
  return lines.join('\n');
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
  const colours: Record<string, string> = { fhirgraph: '#2b6cb0', 'raw-sql': '#a0aec0', postgraphile: '#dd6b20' };
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
        `<text x="${left + len + 6}" y="${y + 14}">${fmt(w.median.requestsPerSecond)} req/s · p99 ${fmt(w.median.p99Ms, 1)} ms</text>`,
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
