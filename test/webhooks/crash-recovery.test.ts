/**
 * Issue 16's done-when test for webhooks: 1,000 matching changes (and others that do not match)
 * are committed through two server processes while the endpoint is down; once it is back and
 * deliveries are under way, every server process is killed with SIGKILL; after a restart every
 * matching event arrives — exactly 1,000 distinct event ids — and none that did not match.
 * Delivery is at least once: an event may arrive twice (an attempt cut off by the kill), never
 * zero times.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, runCli, startServerProcess, stopServerProcess } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

type Proc = ServerProcess;

const SYSTEM = 'urn:test:crash';
const MATCHING = 1_000;
const PUBLIC_URL = 'http://fhirgraph.test';

let db: TestDatabase;
let receiver: WebhookReceiver;
const processes: Proc[] = [];



/** A server process on the shared database, with short webhook timings. */
async function startProcess(): Promise<Proc> {
  const proc = await startServerProcess(db.databaseUrl, {
    PUBLIC_URL, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_RETRY_MAX_DELAY: '4s', WEBHOOK_RETRY_PERIOD: '1h',
  });
  processes.push(proc);
  return proc;
}

async function killAll(): Promise<void> {
  const running = processes.splice(0);
  await Promise.all(running.map((p) => stopServerProcess(p, 'SIGKILL')));
}


async function call(url: string, token: string, method: string, body?: unknown): Promise<any> {
  const response = await fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const distinctEventIds = () => new Set(receiver.received.map((r) => String(r.headers['x-fhirgraph-event-id']))).size;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startReceiver();
  await receiver.down(); // the endpoint is down from the start
}, 60_000);

afterAll(async () => {
  await killAll();
  await receiver?.close();
  await db?.drop();
});

describe('webhooks across a crash of every server process', () => {
  it('delivers every one of 1,000 matching events after all processes are killed mid-delivery, and nothing else', async () => {
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const admin = await runCli(db.databaseUrl, 'clients', 'create', '--name', 'admin', '--scope', 'system/*.*', '--admin');
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: admin.refresh_token });
    const token = ((await (await fetch(`${a.url}/auth/token`, { method: 'POST', body: form })).json()) as { access_token: string }).access_token;
    const secret = `crash-secret-${randomUUID()}`;
    const subscription = await call(`${a.url}/fhir/Subscription`, token, 'POST', {
      resourceType: 'Subscription', status: 'requested', reason: 'crash test', criteria: `Observation?code=${SYSTEM}|match`,
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/crash`, payload: 'application/fhir+json', header: [`X-Fhirgraph-Secret: ${secret}`] },
    });
    await until(async () => (await call(`${b.url}/fhir/Subscription/${subscription.id}`, token, 'GET')).status === 'active', 30_000, 'Subscription active');

    // 10 transaction Bundles, through both processes: 100 matching and 20 other Observations each, and a Patient.
    const matching = new Set<string>();
    const others = new Set<string>();
    for (let bundle = 0; bundle < 10; bundle++) {
      const entry = Array.from({ length: 121 }, (_, i) => ({
        resource: i === 120
          ? { resourceType: 'Patient', active: true }
          : { resourceType: 'Observation', status: 'final', code: { coding: [{ system: SYSTEM, code: i < 100 ? 'match' : 'other' }] } },
        request: { method: 'POST', url: i === 120 ? 'Patient' : 'Observation' },
      }));
      const result = await call(`${(bundle % 2 ? b : a).url}/fhir`, token, 'POST', { resourceType: 'Bundle', type: 'transaction', entry });
      result.entry.forEach((e: { response: { location: string } }, i: number) => {
        const id = e.response.location.split('/')[1];
        if (i < 100) matching.add(id);
        else if (i < 120) others.add(id);
      });
    }
    expect(matching.size).toBe(MATCHING);

    // Every matching event is enqueued, and attempts fail against the closed port…
    const { default: pg } = await import('pg');
    const probe = new pg.Client({ connectionString: db.databaseUrl });
    await probe.connect();
    try {
      await until(async () => {
        const rows = await probe.query(`SELECT count(DISTINCT data->>'position')::int AS n FROM pgboss.job WHERE name = 'webhook-delivery' AND data->>'subscriptionId' = $1`, [subscription.id]);
        return rows.rows[0].n === MATCHING;
      }, 60_000, 'every matching event enqueued');
      await until(async () => (await call(`${a.url}/fhir/Subscription/${subscription.id}`, token, 'GET')).status === 'error', 30_000, 'Subscription in error');
    } finally {
      await probe.end();
    }

    // …the endpoint comes back, deliveries get under way, and every server process is killed.
    receiver.delay(20);
    await receiver.up();
    await receiver.waitUntil(() => distinctEventIds() >= 100, 60_000, '100 deliveries');
    await killAll();
    const beforeRestart = distinctEventIds();
    expect(beforeRestart).toBeLessThan(MATCHING); // killed mid-delivery

    const [c] = await Promise.all([startProcess(), startProcess()]);
    await receiver.waitUntil(() => distinctEventIds() >= MATCHING, 150_000, `all ${MATCHING} events (had ${beforeRestart} before the restart)`);

    const delivered = new Set(receiver.received.map((r) => String(r.headers['x-fhirgraph-resource']).split('/')[1]));
    expect(distinctEventIds()).toBe(MATCHING);
    expect(delivered).toEqual(matching);
    expect([...delivered].filter((id) => others.has(id))).toEqual([]);
    for (const r of receiver.received.slice(0, 50)) {
      expect(r.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
    }
    await until(async () => (await call(`${c.url}/fhir/Subscription/${subscription.id}`, token, 'GET')).status === 'active', 30_000, 'Subscription active again');
  }, 300_000);
});
