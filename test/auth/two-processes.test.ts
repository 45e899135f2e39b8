/**
 * Two real server processes on one database behave as one service: a token issued by one
 * verifies on the other, a client limited to 10 requests per second gets about 10 accepted per
 * second across both, and disabling a client through one stops it on the other within 5 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

interface Proc { child: ChildProcess; url: string }

let db: TestDatabase;
let a: Proc;
let b: Proc;
let adminToken: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function startProcess(databaseUrl: string): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Both processes share one PUBLIC_URL, as behind a load balancer: tokens name one issuer.
  const env = { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: 'http://fhirgraph.test', LOG_LEVEL: 'warn', RATE_LIMIT_PER_SECOND: '0', RATE_LIMIT_PER_MINUTE: '0' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('server process did not start');
}

async function cli(databaseUrl: string, ...args: string[]): Promise<any> {
  const child = spawn(process.execPath, ['bin/fhirgraph.js', ...args], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk) => { out += chunk; });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`fhirgraph ${args.join(' ')} exited ${code}`);
  return JSON.parse(out);
}

async function token(url: string, refreshToken: string): Promise<string> {
  const res = await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

beforeAll(async () => {
  db = await createTestDatabase();
  [a, b] = await Promise.all([startProcess(db.databaseUrl), startProcess(db.databaseUrl)]);
  const admin = await cli(db.databaseUrl, 'clients', 'create', '--name', 'admin', '--scope', 'system/*.*', '--admin');
  adminToken = await token(a.url, admin.refresh_token);
}, 60_000);

afterAll(async () => {
  for (const p of [a, b]) {
    if (!p) continue;
    p.child.kill('SIGTERM');
    await once(p.child, 'exit');
  }
  await db?.drop();
});

describe('two server processes on one database', () => {
  it('verifies on one process a token issued by the other', async () => {
    const client = await cli(db.databaseUrl, 'clients', 'create', '--name', 'reader', '--scope', 'system/*.read');
    const issuedByA = await token(a.url, client.refresh_token);
    const res = await fetch(`${b.url}/fhir/Patient/_history`, { headers: { authorization: `Bearer ${issuedByA}` } });
    expect(res.status).toBe(200);
  });

  it('keeps a 10 requests/second client to about 10 accepted per second across both', async () => {
    const client = await cli(db.databaseUrl, 'clients', 'create', '--name', 'limited', '--scope', 'system/*.read', '--rate', '10/s');
    const bearer = `Bearer ${await token(a.url, client.refresh_token)}`;
    // Start at a second boundary, then send 30 requests/second to each process for 3 seconds.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const accepted = new Map<number, number>();
    const started = Date.now();
    const fire = async (url: string) => {
      while (Date.now() - started < 3000) {
        const sent = Date.now();
        const res = await fetch(`${url}/fhir/Patient/_history?_count=1`, { headers: { authorization: bearer } });
        await res.arrayBuffer();
        if (res.status === 200) {
          const second = Math.floor(sent / 1000);
          accepted.set(second, (accepted.get(second) ?? 0) + 1);
        } else {
          expect(res.status).toBe(429);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 33 - (Date.now() - sent))));
      }
    };
    await Promise.all([fire(a.url), fire(b.url)]);
    const perSecond = [...accepted.values()];
    console.log(`accepted per second across both processes: ${perSecond.join(', ')}`);
    for (const count of perSecond) expect(count).toBeLessThanOrEqual(12);
    expect(perSecond.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(20);
  });

  it('stops a client on the other process within 5 seconds of disabling it on one', async () => {
    const client = await cli(db.databaseUrl, 'clients', 'create', '--name', 'doomed', '--scope', 'system/*.read');
    const bearer = `Bearer ${await token(a.url, client.refresh_token)}`;
    expect((await fetch(`${b.url}/fhir/Patient/_history`, { headers: { authorization: bearer } })).status).toBe(200);
    const disabledAt = Date.now();
    const res = await fetch(`${a.url}/admin/clients/${client.client_id}/disable`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    let status = 200;
    while (status === 200 && Date.now() - disabledAt < 5000) {
      status = (await fetch(`${b.url}/fhir/Patient/_history`, { headers: { authorization: bearer } })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const elapsed = Date.now() - disabledAt;
    console.log(`disabled on A, refused on B after ${elapsed} ms`);
    expect(status).toBe(401);
    expect(elapsed).toBeLessThan(5000);
  });
});
