/**
 * `npm run smoke:embedded` — the embedded default, end to end (DECISIONS.md §9): with no
 * `DATABASE_URL` and a fresh `DATA_DIR`, start the real server, create a Patient, stop it with
 * SIGTERM (it must exit 0 and stop its PostgreSQL), start it again on the same `DATA_DIR`, read the
 * Patient back, stop. Prints what it measured; exits non-zero with the reason on any failure.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, postmasterPid } from '../src/store/embedded-postgres.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const STARTUP_TIMEOUT_MS = 120_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;
const FHIR_JSON = 'application/fhir+json';

class SmokeFailure extends Error {}

interface Server { child: ChildProcess; output: string[]; exited: Promise<{ code: number | null; signal: string | null }> }

function fail(message: string, server?: Server): never {
  const tail = server ? `\n--- server output (last lines) ---\n${server.output.join('').split('\n').slice(-40).join('\n')}` : '';
  throw new SmokeFailure(message + tail);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Servers started and not yet exited, so a failure can take them down instead of hanging. */
const liveServers = new Set<Server>();

function startServer(env: NodeJS.ProcessEnv): Server {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));
  const server = { child, output, exited };
  liveServers.add(server);
  void exited.then(() => liveServers.delete(server));
  return server;
}

/** Polls `/healthz` until 200; returns the milliseconds it took. */
async function waitForHealth(baseUrl: string, server: Server): Promise<number> {
  const started = performance.now();
  let exited = false;
  void server.exited.then(() => { exited = true; });
  while (performance.now() - started < STARTUP_TIMEOUT_MS) {
    if (exited) fail('the server exited before /healthz answered', server);
    const status = await fetch(`${baseUrl}/healthz`).then((res) => res.status, () => 0);
    if (status === 200) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`/healthz did not answer 200 within ${STARTUP_TIMEOUT_MS / 1000} s`, server);
}

/** Resident set size in MiB of a process, from /proc (Linux only). */
async function rssMiB(pid: number | undefined): Promise<string> {
  const status = pid ? await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '') : '';
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? `${(Number(kb) / 1024).toFixed(1)} MiB` : 'n/a';
}

/** SIGTERM; the server must exit 0 on its own and leave no postgres running. Returns the ms it took. */
async function stopServer(server: Server, dataDir: string): Promise<number> {
  const started = performance.now();
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
  const { code, signal } = await server.exited;
  clearTimeout(timer);
  if (code !== 0) fail(`the server did not exit cleanly on SIGTERM (code ${code}, signal ${signal})`, server);
  const pid = await postmasterPid(dataDir);
  if (pid !== undefined && isAlive(pid)) fail(`PostgreSQL (pid ${pid}) is still running after the server exited`, server);
  return performance.now() - started;
}

/**
 * Creates an API-key client with the operator CLI (which finds the cluster the running server
 * started) and exchanges its refresh token for an access token.
 */
async function accessToken(baseUrl: string, env: NodeJS.ProcessEnv, server: Server): Promise<string> {
  let refreshToken: string | undefined;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/fhirgraph.js', 'clients', 'create', '--name', 'smoke', '--scope', 'system/Patient.cruds'], { cwd: REPO, env });
    refreshToken = (JSON.parse(stdout) as { refresh_token?: string }).refresh_token;
  } catch (err) {
    fail(`fhirgraph clients create failed: ${(err as Error).message}`, server);
  }
  if (!refreshToken) fail('fhirgraph clients create printed no refresh_token', server);
  const res = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) fail(`POST /auth/token answered ${res.status}`, server);
  return body.access_token;
}

async function createPatient(baseUrl: string, token: string, family: string, server: Server): Promise<string> {
  const res = await fetch(`${baseUrl}/fhir/Patient`, {
    method: 'POST',
    headers: { 'content-type': FHIR_JSON, accept: FHIR_JSON, authorization: `Bearer ${token}` },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family, given: ['Embedded'] }] }),
  });
  if (res.status !== 201) fail(`POST /fhir/Patient answered ${res.status}: ${(await res.text()).slice(0, 500)}`, server);
  const id = /\/Patient\/([A-Za-z0-9\-.]{1,64})(?:\/|$)/.exec(res.headers.get('location') ?? '')?.[1];
  if (!id) fail(`POST /fhir/Patient gave no usable Location header (got "${res.headers.get('location')}")`, server);
  return id;
}

async function readFamily(baseUrl: string, token: string, id: string, server: Server): Promise<string | undefined> {
  const res = await fetch(`${baseUrl}/fhir/Patient/${id}`, { headers: { accept: FHIR_JSON, authorization: `Bearer ${token}` } });
  if (res.status !== 200) fail(`GET /fhir/Patient/${id} answered ${res.status}: ${(await res.text()).slice(0, 500)}`, server);
  const patient = (await res.json()) as { name?: { family?: string }[] };
  return patient.name?.[0]?.family;
}

async function run(dataDir: string): Promise<void> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, PUBLIC_URL: baseUrl, METRICS_PORT: '0' };
  delete env.DATABASE_URL;
  const family = `Smoke-${Date.now().toString(36)}`;
  console.log(`embedded smoke test: DATA_DIR=${dataDir}, PORT=${port}`);

  const first = startServer(env);
  const firstStartMs = await waitForHealth(baseUrl, first);
  const firstRss = await rssMiB(first.child.pid);
  const postgresRss = await rssMiB(await postmasterPid(dataDir));
  const token = await accessToken(baseUrl, env, first);
  const id = await createPatient(baseUrl, token, family, first);
  console.log(`  1st start (initdb + migrate) to /healthz 200: ${firstStartMs.toFixed(0)} ms; created Patient/${id}`);
  const firstStopMs = await stopServer(first, dataDir);
  console.log(`  SIGTERM to exit 0, PostgreSQL stopped: ${firstStopMs.toFixed(0)} ms`);

  const second = startServer(env);
  const secondStartMs = await waitForHealth(baseUrl, second);
  const secondRss = await rssMiB(second.child.pid);
  // The same access token still verifies: the signing key lives in the database.
  const readBack = await readFamily(baseUrl, token, id, second);
  if (readBack !== family) fail(`Patient/${id} came back with family "${readBack}", expected "${family}"`, second);
  console.log(`  2nd start (existing cluster) to /healthz 200: ${secondStartMs.toFixed(0)} ms; Patient/${id} read back`);
  const secondStopMs = await stopServer(second, dataDir);
  console.log(`  SIGTERM to exit 0, PostgreSQL stopped: ${secondStopMs.toFixed(0)} ms`);
  console.log(`  RSS: server ${firstRss} after 1st start, ${secondRss} after 2nd; postmaster ${postgresRss}`);
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'fhirgraph-smoke-'));
  try {
    await run(dataDir);
    console.log('embedded smoke test passed');
    await fs.rm(dataDir, { recursive: true, force: true });
  } catch (err) {
    for (const server of liveServers) {
      server.child.kill('SIGTERM');
      const timer = setTimeout(() => server.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
      await server.exited;
      clearTimeout(timer);
    }
    const pid = await postmasterPid(dataDir);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGINT'); // do not leave a cluster behind
    console.error(`embedded smoke test FAILED: ${err instanceof SmokeFailure ? err.message : (err as Error).stack}`);
    console.error(`(data left in ${dataDir})`);
    process.exitCode = 1;
  }
}

await main();
