/**
 * The cost of telemetry (issue 19): the REST read by id workload against fhirgraph processes that
 * differ only in their telemetry settings, started side by side on the bench database and measured
 * in turn, run after run, so drift hits every variant alike; the report prints them beside the
 * first (everything off). A variant is its environment: add one to {@link TELEMETRY_VARIANTS}
 * and it is measured and reported with the others.
 */
import { freePort } from './child-process.ts';
import { startDiscardingReceiver } from './otlp-discard-receiver.ts';
import { medianOf, type RunFigures } from './load-test.ts';

/** One telemetry setting of the server. */
export interface TelemetryVariant {
  id: string;
  title: string;
  /** The server's environment beyond the bench's own (a fresh port where one is needed). */
  prepare(): Promise<{ env: Record<string, string>; scrapeUrl?: string; stop?(): Promise<void> }>;
}

/** How often a variant with metrics is scraped while it is measured (Prometheus' default is 15 s or 1 min). */
export const SCRAPE_EVERY_MS = 5_000;

/** The variants, the first being the baseline the others are compared with. */
export const TELEMETRY_VARIANTS: TelemetryVariant[] = [
  { id: 'off', title: 'metrics off (METRICS_PORT=0)', prepare: async () => ({ env: { METRICS_PORT: '0' } }) },
  {
    id: 'metrics', title: `metrics on, scraped every ${SCRAPE_EVERY_MS / 1000} s`,
    prepare: async () => {
      const port = await freePort();
      return { env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' }, scrapeUrl: `http://127.0.0.1:${port}/metrics` };
    },
  },
  {
    id: 'tracing', title: 'tracing on (OTLP/HTTP protobuf to a discarding receiver), metrics off',
    prepare: async () => {
      const receiver = await startDiscardingReceiver();
      return {
        env: { METRICS_PORT: '0', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'fhirgraph-bench' },
        stop: async () => { await receiver.stop(); },
      };
    },
  },
];

/** One variant's runs and their median. */
export interface VariantFigures {
  id: string;
  title: string;
  runs: RunFigures[];
  median: RunFigures;
  /** Scrapes answered during its runs (a variant with metrics). */
  scrapes?: number;
}

/** What the telemetry bench reports. */
export interface TelemetryCostFigures {
  workload: string;
  variants: VariantFigures[];
}

/** What the measurement needs from the bench. */
export interface TelemetryCostDeps {
  variants?: TelemetryVariant[];
  /**
   * Starts a fhirgraph process with `env` on top of the bench's, with the bench server's
   * `PUBLIC_URL` (the tokens' issuer and audience); returns its origin and a stop.
   */
  startServer(env: Record<string, string>): Promise<{ origin: string; stop(): Promise<void> }>;
  /** One measured run of the workload against `origin`, `seconds` long. */
  run(origin: string, seconds: number): Promise<RunFigures>;
  runs: number;
  seconds: number;
  warmupSeconds: number;
  log(message: string): void;
}

/** Scrapes `url` every {@link SCRAPE_EVERY_MS} until stopped; resolves with the scrapes answered. */
function scrapeWhile(url: string): { stop(): Promise<number> } {
  let answered = 0;
  let running: Promise<void> = Promise.resolve();
  const scrape = () => {
    running = fetch(url).then(async (r) => { await r.text(); if (r.ok) answered++; }, () => undefined);
  };
  scrape(); // at the start of each run too, so a short run is scraped at least once
  const timer = setInterval(scrape, SCRAPE_EVERY_MS);
  return { stop: async () => { clearInterval(timer); await running; return answered; } };
}

/** Measures every variant; see the module comment. */
export async function measureTelemetryCost(deps: TelemetryCostDeps): Promise<TelemetryCostFigures> {
  const variants = deps.variants ?? TELEMETRY_VARIANTS;
  const started: { variant: TelemetryVariant; origin: string; scrapeUrl?: string; stop(): Promise<void> }[] = [];
  try {
    for (const variant of variants) {
      const { env, scrapeUrl, stop } = await variant.prepare();
      const server = await deps.startServer(env).catch(async (err: unknown) => { await stop?.(); throw err; });
      started.push({ variant, origin: server.origin, scrapeUrl, stop: async () => { await server.stop(); await stop?.(); } });
      deps.log(`  telemetry variant ${variant.id}: ${server.origin}`);
    }
    for (const s of started) if (deps.warmupSeconds > 0) await deps.run(s.origin, deps.warmupSeconds);
    const runs = new Map<string, RunFigures[]>(variants.map((v) => [v.id, []]));
    const scrapes = new Map<string, number>();
    for (let i = 0; i < deps.runs; i++) {
      for (const s of started) {
        const scraper = s.scrapeUrl ? scrapeWhile(s.scrapeUrl) : undefined;
        const figures = await deps.run(s.origin, deps.seconds);
        if (scraper) scrapes.set(s.variant.id, (scrapes.get(s.variant.id) ?? 0) + await scraper.stop());
        runs.get(s.variant.id)!.push(figures);
        const failed = figures.non2xx + figures.errors ? `, ${figures.non2xx} non-2xx, ${figures.errors} errors` : '';
        deps.log(`  ${`read, ${s.variant.id}`.padEnd(28)} run ${i + 1}: ${figures.requestsPerSecond} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms${failed}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 2 * figures.p99Ms + 500)));
      }
    }
    return {
      workload: 'GET /fhir/Patient/{id}',
      variants: variants.map((v) => ({ id: v.id, title: v.title, runs: runs.get(v.id)!, median: medianOf(runs.get(v.id)!), scrapes: scrapes.get(v.id) })),
    };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  }
}

/** The report's section: each variant's median beside the first's. */
export function telemetryCostLines(t: TelemetryCostFigures): string[] {
  const base = t.variants[0]?.median;
  const delta = (value: number, from: number | undefined) => (from ? `${value >= from ? '+' : ''}${(((value - from) / from) * 100).toFixed(1)} %` : '–');
  return [
    `## Telemetry cost (${t.workload}, a fhirgraph process per variant, medians)`,
    '',
    '| Variant | req/s | vs off | p50 ms | p99 ms | scrapes |',
    '|---|---:|---:|---:|---:|---:|',
    ...t.variants.map((v) => `| ${v.title} | ${v.median.requestsPerSecond} | ${v === t.variants[0] ? '–' : delta(v.median.requestsPerSecond, base?.requestsPerSecond)} | ${v.median.p50Ms} | ${v.median.p99Ms} | ${v.scrapes ?? '–'} |`),
    '',
  ];
}
