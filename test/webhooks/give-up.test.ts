/**
 * Where a webhook stops: a delivery that keeps failing for `WEBHOOK_RETRY_PERIOD` (3 s here) is
 * given up and its Subscription turned `off` with `Subscription.error`; an `off` Subscription gets
 * nothing, whether the server or its client turned it off; setting it back to `requested`
 * restarts it, and `$replay` brings what it missed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let receiver: WebhookReceiver;
const SYSTEM = 'urn:test:give-up';

async function statusOf(id: string): Promise<Record<string, any>> {
  return (await fhirFetch(`${t.url}/fhir/Subscription/${id}`)).body;
}

async function waitForStatus(id: string, status: string, timeoutMs = 30_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const resource = await statusOf(id);
    if (resource.status === status) return resource;
    if (Date.now() > deadline) throw new Error(`Subscription/${id} is ${resource.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function observe(code: string): Promise<string> {
  const created = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: SYSTEM, code }] } } });
  expect(created.status).toBe(201);
  return created.body.id;
}

const about = (id: string) => (r: ReceivedWebhook) => String(r.headers['x-fhirgraph-resource']).startsWith(`Observation/${id}/`);

async function jobsOf(id: string): Promise<number> {
  const rows = await t.server.service.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'webhook-delivery' AND data->>'subscriptionId' = $1`, [id]);
  return rows[0].n;
}

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({ webhookAllowPrivate: true, webhooks: { timeoutMs: 2_000, retryPeriodMs: 3_000, retryMaxDelayMs: 1_000, concurrency: 4 } });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('a webhook that keeps failing', () => {
  it('is given up after WEBHOOK_RETRY_PERIOD and turned off; back to requested, it restarts and $replay brings the missed events', async () => {
    const code = `c-${randomUUID()}`;
    receiver.statusFor('/down', 500);
    const created = await fhirFetch(`${t.url}/fhir/Subscription`, {
      method: 'POST', body: {
        resourceType: 'Subscription', status: 'requested', reason: 'give up', criteria: `Observation?code=${SYSTEM}|${code}`,
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/down`, payload: 'application/fhir+json' },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await waitForStatus(id, 'active');
    const lost = await observe(code);
    const off = await waitForStatus(id, 'off');
    expect(off.error).toMatch(/failed for 3\.0 s \(WEBHOOK_RETRY_PERIOD\); deliveries stopped\. Last attempt: the endpoint answered HTTP 500/);
    const cursor = String(receiver.on('/down').find(about(lost))!.headers['x-fhirgraph-event-cursor']);

    receiver.statusFor('/down', 200);
    const whileOff = await observe(code);
    await t.server.changes.sequencer.flush(); // stamped…
    await t.server.webhooks.dispatcher.flush(); // …and matched
    const before = await jobsOf(id);
    expect(receiver.received.some(about(whileOff))).toBe(false);
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay?since=${cursor}`, { method: 'POST' })).status).toBe(409);

    // The client restarts it, and replays what it missed since it created it.
    const restarted = await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { method: 'PUT', body: { ...off, status: 'requested', error: undefined } });
    expect(restarted.status, restarted.text).toBe(200);
    const active = await waitForStatus(id, 'active');
    expect(active.error).toBeUndefined();
    const replay = await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay`, {
      method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: 'since', valueInstant: created.body.meta.lastUpdated }] },
    });
    expect(replay.status, replay.text).toBe(202);
    await receiver.waitFor((r) => about(whileOff)(r) && r.headers['x-fhirgraph-attempt'] === '1');
    await receiver.waitFor((r) => about(lost)(r) && r.headers['x-fhirgraph-attempt'] === '1' && r.receivedAt > Date.parse(active.meta.lastUpdated));
    expect(await jobsOf(id)).toBeGreaterThan(before);

    // A client's own `off` stops it too.
    const current = await statusOf(id);
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { method: 'PUT', body: { ...current, status: 'off' } })).status).toBe(200);
    const afterOff = await observe(code);
    await t.server.changes.sequencer.flush(); // stamped…
    await t.server.webhooks.dispatcher.flush(); // …and matched
    expect(receiver.received.some(about(afterOff))).toBe(false);
    expect((await statusOf(id)).status).toBe('off');
  }, 60_000);
});
