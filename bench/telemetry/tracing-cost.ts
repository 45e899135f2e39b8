/**
 * What tracing costs (issue 19): the same workloads against the server with tracing off (no
 * `OTEL_*` set: the SDK is never loaded) and on (OTLP/HTTP protobuf, the SDK's default, to a
 * receiver started here that reads and discards every export), each server in its own process
 * started as `npm start` starts it, one after the other on the same freshly loaded database, off
 * once more at the end (the spread between the two off runs is the machine's noise).
 *
 *   node --import tsx bench/telemetry/tracing-cost.ts [--scale 1000] [--duration 10] [--connections 10] [--runs 1]
 *
 * Prints one table (requests per second and latency per workload and variant) and writes nothing.
 * Uses `DATABASE_URL`'s server (else the embedded PostgreSQL), in a database of its own
 * (`fhirgraph_bench_tracing_cost`), dropped and reloaded each run.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/auth/client-admin.ts';
import { Database } from '../../src/store/database.ts';
import { prepareBenchDatabase } from '../lib/bench-database.ts';
import { answers, freePort, startChild, type Child } from '../lib/child-process.ts';
import { medianOf, runOnce, type RequestPlan, type RunFigures } from '../lib/load-test.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (message: string) => process.stderr.write(`tracing-cost: ${message}\n`);

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/**
 * An OTLP receiver that reads each export and answers 200 with nothing, in a process of its own
 * (in this one it would take CPU from autocannon); it reports the exports and bytes it got at exit.
 */
const RECEIVER_SCRIPT = `
let exports = 0, bytes = 0;
const server = require('node:http').createServer((req, res) => {
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => { exports += 1; res.writeHead(200, { 'content-type': req.headers['content-type'] || 'application/x-protobuf' }).end(); });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => { process.stderr.write(JSON.stringify({ exports, bytes }) + '\\n'); process.exit(0); });
`;

async function startDiscardingReceiver(): Promise<{ url: string; stop(): Promise<{ exports: number; bytes: number }> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', RECEIVER_SCRIPT], { env: { PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let report = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { report += chunk; });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { if (chunk.includes('listening')) resolve(); });
    child.once('exit', () => reject(new Error(`the OTLP receiver exited: ${report}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(report.trim().split('\n').pop() || '{}') as { exports: number; bytes: number };
    },
  };
}

/** The node flags of `npm start`. */
function serverNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('src/main.ts'));
}

async function startServer(databaseUrl: string, otel: Record<string, string>): Promise<{ child: Child; origin: string }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_'))),
    DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: origin, LOG_LEVEL: 'info', NODE_ENV: 'production',
    BENCH_BASELINE_SECRET: randomBytes(24).toString('hex'), ...otel,
  };
  const child = await startChild(process.execPath, [...serverNodeFlags(), path.join(ROOT, 'bench/serve-fhirgraph.ts')], env, () => answers(`${origin}/healthz`));
  return { child, origin };
}

async function tokenFor(origin: string, refreshToken: string): Promise<string> {
  const response = await fetch(`${origin}/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = await response.json() as { access_token?: string };
  if (!body.access_token) throw new Error(`token request failed: ${response.status}`);
  return body.access_token;
}

/** Loads `scale` Patients in batches of 100 and returns their ids. */
async function seed(origin: string, token: string, scale: number): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < scale; from += 100) {
    const entry = Array.from({ length: Math.min(100, scale - from) }, (_, k) => ({
      request: { method: 'POST', url: 'Patient' },
      resource: { resourceType: 'Patient', gender: (from + k) % 2 ? 'female' : 'male', name: [{ family: `Trace${from + k}`, given: ['Cost'] }] },
    }));
    const response = await fetch(`${origin}/fhir`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry }),
    });
    const bundle = await response.json() as { entry?: { response?: { location?: string } }[] };
    for (const e of bundle.entry ?? []) {
      const id = /^Patient\/([^/]+)/.exec(e.response?.location ?? '')?.[1];
      if (id) ids.push(id);
    }
  }
  if (ids.length < scale) throw new Error(`loaded ${ids.length} of ${scale} Patients`);
  return ids;
}

function plans(token: string, ids: string[]): { id: string; plan: RequestPlan }[] {
  const auth = { authorization: `Bearer ${token}` };
  return [
    { id: 'read', plan: { method: 'GET', headers: auth, paths: ids.slice(0, 500).map((id) => `/fhir/Patient/${id}`) } },
    { id: 'search-family', plan: { method: 'GET', headers: auth, paths: ids.slice(0, 100).map((_, i) => `/fhir/Patient?family=Trace${i * 7}`) } },
    { id: 'graphql-list', plan: { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, paths: ['/graphql'],
      bodies: [JSON.stringify({ query: 'query Patients { PatientList(_count: 20, gender: "female") { id name { family } } }' })] } },
  ];
}

async function measure(origin: string, token: string, ids: string[], connections: number, seconds: number, runs: number): Promise<Map<string, RunFigures>> {
  const figures = new Map<string, RunFigures>();
  for (const { id, plan } of plans(token, ids)) {
    await runOnce(origin, plan, connections, 2); // warm-up
    const results: RunFigures[] = [];
    for (let r = 0; r < runs; r++) results.push(await runOnce(origin, plan, connections, seconds));
    figures.set(id, medianOf(results));
    log(`  ${id}: ${figures.get(id)!.requestsPerSecond} req/s`);
  }
  return figures;
}

const scale = option('scale', 1000);
const seconds = option('duration', 10);
const connections = option('connections', 10);
const runs = option('runs', 1);
const db = await prepareBenchDatabase('tracing-cost', scale, true, log);
const receiver = await startDiscardingReceiver();
const variants: { name: string; otel: Record<string, string> }[] = [
  { name: 'tracing off', otel: {} },
  { name: 'tracing on (OTLP/HTTP protobuf)', otel: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'fhirgraph-bench' } },
  // Off once more: on a shared machine the spread between the two off runs is the noise.
  { name: 'tracing off, again', otel: {} },
];
const results: { name: string; figures: Map<string, RunFigures> }[] = [];
let ids: string[] | undefined;
let received = { exports: 0, bytes: 0 };
try {
  for (const variant of variants) {
    log(`starting the server, ${variant.name}`);
    const { child, origin } = await startServer(db.url, variant.otel);
    try {
      const admin = await Database.open(db.url, { migrate: false, poolSize: 1 });
      const client = await createClient(admin, { name: `tracing bench ${variant.name}`, scope: 'system/*.*', rate: '0/s,0/min' }).finally(() => admin.close());
      const token = await tokenFor(origin, client.refresh_token!);
      ids ??= await seed(origin, token, scale);
      results.push({ name: variant.name, figures: await measure(origin, token, ids, connections, seconds, runs) });
    } finally {
      await child.stop();
    }
  }
} finally {
  received = await receiver.stop();
  await db.close();
}

const [off, ...others] = results;
const lines = [`tracing cost: ${scale} Patients, ${connections} connections, ${seconds} s x ${runs} run(s) per workload; ${received.exports} OTLP exports received (${Math.round(received.bytes / 1024)} KiB)`, '',
  '| workload | variant | req/s | p50 ms | p99 ms | req/s vs off |', '|---|---|---:|---:|---:|---:|'];
for (const [id, base] of off.figures) {
  lines.push(`| ${id} | ${off.name} | ${base.requestsPerSecond} | ${base.p50Ms} | ${base.p99Ms} | |`);
  for (const other of others) {
    const f = other.figures.get(id)!;
    const delta = Math.round((f.requestsPerSecond / base.requestsPerSecond - 1) * 1000) / 10;
    lines.push(`| ${id} | ${other.name} | ${f.requestsPerSecond} | ${f.p50Ms} | ${f.p99Ms} | ${delta > 0 ? '+' : ''}${delta}% |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
