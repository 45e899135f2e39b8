/**
 * Issue 17's done-when for `$export` across a crash: a server process (as `npm start` runs it) is
 * killed with SIGKILL in the middle of an export; another process on the same database takes the
 * export over once its job's expiry has passed, completes it from the last checkpoint, and serves
 * the status and the files: exactly the resources of the snapshot, each once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { seedResourceRows } from '../helpers/seed-resource-rows.ts';
import { awaitManifest, downloadAll, startExport } from './export-helpers.ts';

const OBSERVATIONS = 30_000;
const PATIENTS = 1_000;
const PUBLIC_URL = 'http://fhirgraph.test';

let db: TestDatabase;
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A server process on the shared database, exporting in small chunks so a kill lands mid-export. */
async function startProcess(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env, DATABASE_URL: db.databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL, LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_PER_MINUTE: '0', METRICS_PORT: '0', EXPORT_CHUNK_RESOURCES: '200', EXPORT_FILE_RESOURCES: '10000',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server process did not start (exit code ${child.exitCode})`);
}

async function cli(...args: string[]): Promise<any> {
  const child = spawn(process.execPath, ['bin/fhirgraph.js', ...args], { env: { ...process.env, DATABASE_URL: db.databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`fhirgraph ${args.join(' ')} exited ${code}`);
  return JSON.parse(out);
}

async function exportState(): Promise<{ status: string; exported: number }> {
  const client = new pg.Client({ connectionString: db.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; exported: string }>('SELECT status, exported FROM export_job');
    return { status: rows[0]?.status ?? 'none', exported: Number(rows[0]?.exported ?? 0) };
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await seedResourceRows(db.databaseUrl, { observations: OBSERVATIONS, patients: PATIENTS });
}, 120_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await db?.drop();
});

describe('an export across a SIGKILL of its server process', () => {
  it('is completed by another process from its checkpoint, with every resource exactly once', async () => {
    const a = await startProcess();
    const admin = await cli('clients', 'create', '--name', 'exporter', '--scope', 'system/*.read');
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: admin.refresh_token });
    const token = ((await (await fetch(`${a.url}/auth/token`, { method: 'POST', body: form })).json()) as { access_token: string }).access_token;

    const status = await startExport(`${a.url}/fhir/$export?_type=Patient,Observation`, token);
    // Wait until the export is under way (some chunks committed), then kill the process.
    const deadline = Date.now() + 60_000;
    let progress = '';
    for (;;) {
      const response = await fetch(status.replace(PUBLIC_URL, a.url), { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(202);
      progress = response.headers.get('x-progress') ?? '';
      if (/^in-progress: [1-9]/.test(progress)) break;
      if (Date.now() > deadline) throw new Error(`the export did not start: ${progress}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    a.child.kill('SIGKILL');
    await once(a.child, 'exit');
    const atKill = await exportState();
    expect(atKill.status).toBe('in-progress');
    expect(atKill.exported).toBeGreaterThan(0);
    expect(atKill.exported).toBeLessThan(OBSERVATIONS + PATIENTS);

    const b = await startProcess();
    const manifest = await awaitManifest(status.replace(PUBLIC_URL, b.url), token, 90_000);
    manifest.output = manifest.output.map((f) => ({ ...f, url: f.url.replace(PUBLIC_URL, b.url) }));
    expect(manifest.output.map((f) => [f.type, f.count])).toEqual([['Patient', PATIENTS], ['Observation', 10_000], ['Observation', 10_000], ['Observation', 10_000]]);
    const byType = await downloadAll(manifest, token);
    const observations = byType.get('Observation')!;
    expect(observations).toHaveLength(OBSERVATIONS);
    expect(new Set(observations.map((o) => o.id)).size).toBe(OBSERVATIONS);
    expect(new Set(byType.get('Patient')!.map((p) => p.id)).size).toBe(PATIENTS);
  }, 240_000);
});
