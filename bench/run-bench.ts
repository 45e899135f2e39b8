/**
 * `npm run bench`: the benchmark suite (CONTRACT.md, the bench issue). Loads the synthetic data
 * set through the transaction endpoint (the load rate is a figure), starts fhirgraph in its own
 * process as `npm start` does with the raw-SQL baseline routes on (`serve-fhirgraph.ts`), and PostGraphile on a
 * relational copy of the same data; runs each workload with autocannon beside its baselines, then
 * GraphQL subscriptions' commit-to-subscriber latency with 1,000 open beside a raw NOTIFY → LISTEN
 * round trip (`lib/subscription-latency.ts`; `--only subscription-latency` runs it alone), and
 * writes `bench/results/latest.{json,md,svg}` (and `<scale>.*`), printing the committed 1m run's
 * figures beside a smaller run's. The minimal Node `http` + `pg` server (`minimal-server/`) runs
 * in its own process beside fhirgraph for the read-by-id group; the Health Samurai shapes
 * (`health-samurai/`) run with `--users` virtual users. `--profile` samples fhirgraph's CPU per
 * workload through the inspector (`lib/cpu-profiler.ts`) into `bench/results/profiles/<scale>/`.
 * Exits 0 whether targets pass or not: a benchmark, not a test.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../src/auth/client-admin.ts';
import { generateBundles, planSeed } from '../scripts/seed/generate-bundles.ts';
import { loadBundles, refreshTokenSource, type TokenSource } from '../scripts/seed/load-bundles.ts';
import { Database } from '../src/store/database.ts';
import { BENCH_USAGE, BenchArgsError, parseBenchArgs, type BenchArgs } from './lib/bench-args.ts';
import { benchQuery, prepareBenchDatabase, removeBenchWrites, type SeedFigure } from './lib/bench-database.ts';
import { renderMarkdown, renderSvg, type ReferenceRun } from './lib/bench-report.ts';
import { judgeTargets, type BenchResults, type ProfiledWorkload, type WorkloadResult } from './lib/bench-results.ts';
import { answers, freePort, memoryOf, startChild, type Child } from './lib/child-process.ts';
import { connectProfiler, type ProfilerSession } from './lib/cpu-profiler.ts';
import { medianOf, runOnce, type RunFigures } from './lib/load-test.ts';
import { mergeProfiles, renderProfileSummary, summarizeProfile, type CpuProfile } from './lib/profile-summary.ts';
import { runScenario } from './lib/scenario-load.ts';
import { prepareBundles } from './health-samurai/bundle-load.ts';
import { sampleSearchMixValues } from './health-samurai/search-mix.ts';
import { buildWorkloads, NESTED_QUERY, type Workload } from './lib/workloads.ts';
import { measureSubscriptionLatency, SUBSCRIPTION_LATENCY_ID, type SubscriptionLatencyResult } from './lib/subscription-latency.ts';
import { fetchJwtVerification } from './postgraphile/jwks-to-pem.ts';
import { POSTGRAPHILE_NESTED_QUERY } from './postgraphile/nested-query.ts';
import { buildRelationalCopy } from './postgraphile/relational-copy.ts';
import { measureWebhooks, type WebhookFigures } from './webhooks/webhook-throughput.ts';
import { exportLines, measureExport, type ExportFigures } from './export/export-throughput.ts';
import { measureTelemetryCost, type TelemetryCostFigures } from './lib/telemetry-cost.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** The node flags of `npm start`, so the server runs here as it runs in production. */
function serverNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('src/main.ts'));
}

async function startFhirgraph(
  databaseUrl: string, secret: string, flags: string[], inspectPort?: number, extraEnv: Record<string, string> = {},
): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: origin,
    BENCH_BASELINE_SECRET: secret, LOG_LEVEL: 'info', NODE_ENV: 'production',
    // The webhook bench's receiver listens on loopback.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    // Metrics on, as by default, on a port of this run (the telemetry section measures their cost).
    METRICS_PORT: String(await freePort()),
    ...extraEnv,
  };
  // The inspector listens on loopback only, on a port of this run, and only with --profile.
  const inspect = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
  const child = await startChild(process.execPath, [...inspect, ...flags, path.join(ROOT, 'bench/serve-fhirgraph.ts')], env, () => answers(`${origin}/healthz`));
  return { child, origin };
}

/** The minimal Node `http` + `pg` server, in its own process (`minimal-server/serve-minimal.ts`). */
async function startMinimal(databaseUrl: string, secret: string): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const child = await startChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/minimal-server/serve-minimal.ts')],
    { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', BENCH_BASELINE_SECRET: secret, NODE_ENV: 'production' },
    async (lines) => lines.some((line) => line.startsWith('listening ')));
  return { child, origin: `http://127.0.0.1:${port}` };
}

/** The committed 1m results, printed beside a smaller run's figures (none when absent or unreadable). */
function referenceRun(scaleLabel: string): ReferenceRun | undefined {
  const file = path.join(RESULTS, '1m.json');
  if (scaleLabel === '1m' || !existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ReferenceRun;
    return Array.isArray(r.workloads) && Array.isArray(r.targets) ? { scale: r.scale, startedAt: r.startedAt, workloads: r.workloads, targets: r.targets } : undefined;
  } catch {
    return undefined;
  }
}

/** A logged number from fhirgraph's pino lines (`startMs`, `schemaBuildMs`). */
function loggedNumber(lines: string[], field: string): number | undefined {
  for (const line of lines) {
    const match = new RegExp(`"${field}":(\\d+)`).exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Request inputs picked from the data, deterministically (ordered by a hash of the id). */
async function sampleInputs(url: string) {
  const patientIds = (await benchQuery<{ id: string }>(url,
    `SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY md5(id) LIMIT 500`)).map((r) => r.id);
  const namePrefixes = [...new Set((await benchQuery<{ family: string }>(url,
    `SELECT content->'name'->0->>'family' AS family FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY md5(id) LIMIT 300`))
    .map((r) => r.family?.slice(0, 4)).filter((f): f is string => !!f && f.length === 4))];
  const observationQueries = (await benchQuery<{ id: string }>(url,
    `SELECT DISTINCT s.target_id AS id, md5(s.target_id) FROM search_reference s JOIN search_token t
        ON t.resource_type = 'Observation' AND t.resource_id = s.resource_id AND t.param = 'code' AND t.code = '8867-4'
      WHERE s.resource_type = 'Observation' AND s.param = 'subject' AND s.target_type = 'Patient' ORDER BY md5(s.target_id) LIMIT 300`))
    .map((r) => `subject=Patient/${r.id}&code=${encodeURIComponent('http://loinc.org|8867-4')}&date=ge2020-01-01`);
  if (!patientIds.length || !namePrefixes.length || !observationQueries.length) throw new Error('the bench database holds no usable data');
  return { patientIds, namePrefixes, observationQueries };
}

async function seed(origin: string, tokens: TokenSource, args: BenchArgs): Promise<SeedFigure> {
  const plan = planSeed({ scale: args.scale, seed: 1 });
  log(`loading ${plan.resources.toLocaleString('en-US')} resources through ${origin}/fhir transaction Bundles`);
  const started = performance.now();
  let stored = 0;
  let lastReport = 0;
  const result = await loadBundles(generateBundles(plan), {
    baseUrl: origin, tokens, concurrency: 2,
    onStored: (n) => {
      stored += n;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        log(`  ${stored.toLocaleString('en-US')} stored`);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  return { resources: result.resources, seconds: Math.round(seconds * 10) / 10, resourcesPerSecond: Math.round(result.resources / seconds), measuredAt: new Date().toISOString() };
}

const settle = (p99Ms: number) => new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 2 * p99Ms + 500)));

/** One run of a workload: autocannon for a request plan, the bench's own virtual users for a scenario. */
function runWorkload(w: Workload, args: BenchArgs, seconds: number): Promise<RunFigures> {
  if (w.scenario) return runScenario(w.origin, w.scenario, args.users, seconds);
  return runOnce(w.origin, w.plan!, args.connections, seconds);
}

/** With `--profile`: the fhirgraph process's inspector, and each workload's profiles so far. */
interface Profiling { session: ProfilerSession; origin: string; profiles: Map<string, CpuProfile[]> }

/** Warms each workload of a group, then runs them in turn, `runs` times, so drift hits all alike. */
async function runGroup(group: Workload[], args: BenchArgs, profiling?: Profiling): Promise<WorkloadResult[]> {
  const runs = new Map<string, RunFigures[]>(group.map((w) => [w.id, []]));
  for (const w of group) {
    if (args.warmup > 0) await settle((await runWorkload(w, args, args.warmup)).p99Ms);
  }
  for (let i = 0; i < args.runs; i++) {
    for (const w of group) {
      // Only workloads served by the fhirgraph process (its routes and the in-process raw routes).
      const profiled = profiling && w.origin === profiling.origin ? profiling : undefined;
      if (profiled) await profiled.session.start();
      const figures = await runWorkload(w, args, args.duration);
      if (profiled) profiled.profiles.set(w.id, [...(profiled.profiles.get(w.id) ?? []), await profiled.session.stop()]);
      runs.get(w.id)!.push(figures);
      // Requests cut off at the end of a run are still being answered: let the server drain them
      // so the next workload's window does not pay for this one's backlog.
      await settle(figures.p99Ms);
      log(`  ${w.id.padEnd(28)} run ${i + 1}: ${figures.requestsPerSecond} req/s${figures.resourcesPerSecond === undefined ? '' : ` (${figures.resourcesPerSecond} resources/s)`}, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms${figures.non2xx + figures.errors ? `, ${figures.non2xx} non-2xx, ${figures.errors} errors` : ''}`);
    }
  }
  return group.map((w) => ({ id: w.id, group: w.group, title: w.title, target: w.target, runs: runs.get(w.id)!, median: medianOf(runs.get(w.id)!) }));
}

/** Writes each profiled workload's merged `.cpuprofile` and its Markdown summary; returns their heads for the report. */
function writeProfiles(profiling: Profiling, scaleLabel: string, titles: Map<string, string>): ProfiledWorkload[] {
  const dir = path.join(RESULTS, 'profiles', scaleLabel);
  mkdirSync(dir, { recursive: true });
  const written: ProfiledWorkload[] = [];
  for (const [id, profiles] of profiling.profiles) {
    const profile = mergeProfiles(profiles);
    const file = path.join(dir, `${id}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const summary = summarizeProfile(profile);
    const summaryFile = path.relative(ROOT, path.join(dir, `${id}.md`));
    writeFileSync(path.join(ROOT, summaryFile), renderProfileSummary(`${id} — ${titles.get(id) ?? id} (scale ${scaleLabel})`, path.relative(ROOT, file), summary));
    written.push({ id, summaryFile, busyMs: summary.busyMs, gcShare: summary.gcShare, topFiles: summary.files.slice(0, 5) });
  }
  return written;
}

/** Access tokens of five unlimited clients: 1,000 subscriptions take 50 sockets at the default 10 per client. */
async function subscriberTokens(databaseUrl: string, origin: string, startedAt: string): Promise<string[]> {
  const admin = await Database.open(databaseUrl, { migrate: false, poolSize: 1 });
  try {
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const client = await createClient(admin, { name: `bench subscriber ${i} ${startedAt}`, scope: 'system/Patient.cruds', rate: '0/s,0/min' });
      tokens.push(await refreshTokenSource(origin, client.refresh_token!).current());
    }
    return tokens;
  } finally {
    await admin.close();
  }
}

/** `$export` on a data set of its own, with a server process of its own (bench/export/). */
async function benchExport(args: BenchArgs): Promise<ExportFigures> {
  log(`Bulk Data export of ${args.exportResources.toLocaleString('en-US')} resources, beside a raw SQL cursor`);
  const flags = serverNodeFlags();
  const figures = await measureExport({
    resources: args.exportResources, reseed: args.reseed, log, startServer: (url) => startFhirgraph(url, randomBytes(24).toString('hex'), flags),
  });
  log(`  export ${figures.exportPerSecond} resources/s, download ${figures.downloadPerSecond}/s, raw cursor ${figures.baselinePerSecond}/s, server peak RSS ${figures.peakRssMb} MB`);
  return figures;
}

/** `--only export`: the export bench alone, written to bench/results/export.{json,md}. */
async function exportOnly(args: BenchArgs): Promise<number> {
  const startedAt = new Date().toISOString();
  const figures = await benchExport(args);
  const markdown = [`# fhirgraph benchmark — Bulk Data export`, '', `${startedAt} → ${new Date().toISOString()}. ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown'}; Node ${process.version}.`, '', ...exportLines(figures)].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'export.json'), `${JSON.stringify({ startedAt, export: figures }, null, 2)}\n`);
  writeFileSync(path.join(RESULTS, 'export.md'), markdown);
  process.stdout.write(`${markdown}\nwritten: bench/results/export.{json,md}\n`);
  return 0;
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  if (args.only?.length && args.only.every((id) => id === 'export')) return exportOnly(args);
  const startedAt = new Date().toISOString();
  const children: Child[] = [];
  const db = await prepareBenchDatabase(args.scaleLabel, args.scale, args.reseed, log);
  try {
    const secret = randomBytes(24).toString('hex');
    const flags = serverNodeFlags();
    const wanted = (id: string) => !args.only || args.only.includes(id);
    const inspectPort = args.profile ? await freePort() : undefined;
    log(`starting fhirgraph (node ${flags.join(' ')} bench/serve-fhirgraph.ts: src/main.ts with the baseline routes) on ${db.name}${inspectPort ? `, inspector on 127.0.0.1:${inspectPort} for --profile` : ''}`);
    const { child: server, origin } = await startFhirgraph(db.url, secret, flags, inspectPort);
    children.push(server);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const afterStart = memoryOf(server.process.pid!);
    log(`fhirgraph healthy after ${server.startMs} ms, RSS ${afterStart.rssMb} MB`);

    const admin = await Database.open(db.url, { migrate: false, poolSize: 1 });
    const client = await createClient(admin, { name: `bench ${startedAt}`, scope: 'system/*.*', rate: '0/s,0/min' })
      .finally(() => admin.close());
    // Access tokens renewed well before their 15 minutes run out (a 1m run outlasts several).
    const tokens = refreshTokenSource(origin, client.refresh_token!);

    let ingest: SeedFigure & { kept: boolean };
    if (db.kept) {
      log(`keeping the loaded ${args.scaleLabel} data (loaded ${db.kept.measuredAt}; --reseed reloads it)`);
      ingest = { ...db.kept, kept: true };
    } else {
      ingest = { ...(await seed(origin, tokens, args)), kept: false };
      await db.recordSeed(ingest);
      log(`loaded ${ingest.resources} resources in ${ingest.seconds} s: ${ingest.resourcesPerSecond} resources/s`);
    }
    const leftOver = await removeBenchWrites(db.url);
    if (leftOver) log(`removed ${leftOver} resources left by an earlier run's write workloads`);
    // A steady-state database: statistics, and visibility maps so index-only scans skip the heap
    // (autovacuum would get there on its own, later).
    log('VACUUM (ANALYZE)');
    await benchQuery(db.url, 'VACUUM (ANALYZE)');
    const [{ n: resources }] = await benchQuery<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM resource WHERE NOT deleted`);

    let postgraphile: { origin: string; query: string } | undefined;
    if (args.postgraphile && wanted('graphql-nested-postgraphile')) {
      const copy = await buildRelationalCopy(db.url);
      log(`relational copy for PostGraphile: ${copy.patients} patients, ${copy.observations} observations, ${copy.practitioners} practitioners`);
      const jwt = await fetchJwtVerification(origin);
      const port = await freePort();
      const pgOrigin = `http://127.0.0.1:${port}`;
      const pgChild = await startChild(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/postgraphile/serve-postgraphile.ts')],
        { ...process.env, DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', JWT_PUBLIC_KEY_PEM: jwt.publicKeyPem, JWT_ISSUER: jwt.issuer, NODE_ENV: 'production' },
        async (lines) => lines.some((line) => line.startsWith('listening ')));
      children.push(pgChild);
      postgraphile = { origin: pgOrigin, query: POSTGRAPHILE_NESTED_QUERY };
    }

    const token = await tokens.current();
    const nested = await (await fetch(`${origin}/graphql`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: NESTED_QUERY }),
    })).json() as { data?: { PatientList: { ObservationList: unknown[] }[] }; extensions?: { statements?: number }; errors?: unknown[] };
    if (nested.errors) throw new Error(`the nested GraphQL query failed: ${JSON.stringify(nested.errors).slice(0, 300)}`);

    let minimal: { origin: string } | undefined;
    if (wanted('read-minimal')) {
      const started = await startMinimal(db.url, secret);
      children.push(started.child);
      minimal = { origin: started.origin };
      log(`minimal Node http + pg server (bench/minimal-server/serve-minimal.ts) on ${started.origin}`);
    }
    const searchMix = wanted('search-mix') ? await sampleSearchMixValues(db.url) : undefined;
    const bundles = wanted('bundle-load') ? prepareBundles(args.scale) : undefined;
    const inputs = { fhirgraph: origin, postgraphile, minimal, searchMix, bundles, benchSecret: secret, ...(await sampleInputs(db.url)) };
    const selected = (accessToken: string) => buildWorkloads({ ...inputs, token: accessToken }).filter((w) => wanted(w.id));
    const profiling: Profiling | undefined = inspectPort ? { session: await connectProfiler(inspectPort), origin, profiles: new Map() } : undefined;
    const results: WorkloadResult[] = [];
    try {
      for (const group of [...new Set(selected(token).map((w) => w.group))]) {
        log(`workload group: ${group}`);
        // Each group's requests carry a token with minutes left to live.
        results.push(...await runGroup(selected(await tokens.current()).filter((w) => w.group === group), args, profiling));
      }
    } finally {
      profiling?.session.close();
    }
    const profiles = profiling ? writeProfiles(profiling, args.scaleLabel, new Map(results.map((w) => [w.id, w.title]))) : undefined;
    if (profiles) log(`CPU profiles and summaries written under bench/results/profiles/${args.scaleLabel}/`);

    let telemetry: TelemetryCostFigures | undefined;
    if (!args.only || args.only.includes('telemetry-cost')) {
      log('telemetry cost: REST read by id against a fhirgraph process per telemetry variant');
      const readPlan = buildWorkloads({ ...inputs, token: await tokens.current() }).find((w) => w.id === 'read')!.plan!;
      telemetry = await measureTelemetryCost({
        startServer: async (env) => {
          // The bench's tokens name the first server's PUBLIC_URL as issuer and audience.
          const started = await startFhirgraph(db.url, secret, flags, undefined, { PUBLIC_URL: origin, ...env });
          children.push(started.child);
          return { origin: started.origin, stop: () => started.child.stop() };
        },
        run: (variantOrigin, seconds) => runOnce(variantOrigin, readPlan, args.connections, seconds),
        runs: args.runs, seconds: args.duration, warmupSeconds: args.warmup, log,
      });
    }

    let subscriptions: SubscriptionLatencyResult | undefined;
    if (!args.only || args.only.includes(SUBSCRIPTION_LATENCY_ID)) {
      log('GraphQL subscriptions: commit-to-subscriber latency with 1,000 open, beside NOTIFY → LISTEN');
      subscriptions = await measureSubscriptionLatency({ origin, databaseUrl: db.url, tokens: await subscriberTokens(db.url, origin, startedAt), log });
      log(`  fhirgraph p50 ${subscriptions.fhirgraph.p50Ms} ms, p99 ${subscriptions.fhirgraph.p99Ms} ms; NOTIFY → LISTEN p50 ${subscriptions.listenNotify.p50Ms} ms, p99 ${subscriptions.listenNotify.p99Ms} ms`);
    }

    let webhooks: WebhookFigures | undefined;
    if (!args.only || args.only.includes('webhooks')) {
      log('webhooks: deliveries per second beside plain POSTs');
      webhooks = await measureWebhooks(origin, await tokens.current(), { log });
    }

    const exportFigures = !args.only || args.only.includes('export') ? await benchExport(args) : undefined;

    const afterRun = memoryOf(server.process.pid!);
    const removed = await removeBenchWrites(db.url);
    log(`removed the ${removed} resources the write workloads created`);
    const bench: BenchResults = {
      startedAt,
      finishedAt: new Date().toISOString(),
      scale: args.scaleLabel,
      resources,
      machine: {
        cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version, postgres: (await benchQuery<{ version: string }>(db.url, 'SELECT version()'))[0].version.split(' on ')[0],
      },
      settings: { connections: args.connections, duration: args.duration, runs: args.runs, warmup: args.warmup, serverNodeFlags: flags, users: args.users, profile: args.profile },
      ingest,
      server: {
        startMs: server.startMs, startLoggedMs: loggedNumber(server.lines, 'startMs'), schemaBuildMs: loggedNumber(server.lines, 'schemaBuildMs'),
        rssAfterStartMb: afterStart.rssMb, rssAfterRunMb: afterRun.rssMb, peakRssMb: afterRun.peakRssMb,
      },
      graphql: {
        statementsPerNestedQuery: nested.extensions?.statements,
        nestedPatients: nested.data?.PatientList.length ?? 0,
        nestedObservations: nested.data?.PatientList.reduce((n, p) => n + p.ObservationList.length, 0) ?? 0,
      },
      workloads: results,
      subscriptions,
      webhooks,
      export: exportFigures,
      telemetry,
      targets: judgeTargets(results, ingest, subscriptions),
      profiles,
    };
    mkdirSync(RESULTS, { recursive: true });
    const markdown = renderMarkdown(bench, referenceRun(args.scaleLabel));
    for (const name of ['latest', args.scaleLabel]) {
      writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(bench, null, 2)}\n`);
      writeFileSync(path.join(RESULTS, `${name}.md`), markdown);
      writeFileSync(path.join(RESULTS, `${name}.svg`), renderSvg(bench));
    }
    process.stdout.write(`${markdown}\nwritten: bench/results/latest.{json,md,svg} and bench/results/${args.scaleLabel}.{json,md,svg}\n`);
    return 0;
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    await db.close();
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof BenchArgsError) {
      process.stderr.write(`bench: ${err.message}\n${BENCH_USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    log(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  },
).finally(() => setTimeout(() => process.exit(), 2000).unref());
