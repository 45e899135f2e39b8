/**
 * Issue 16, part 3: webhooks — FHIR R4 `Subscription` with `channel.type = rest-hook` — against a
 * real server, a real PostgreSQL and a real HTTP endpoint on loopback (`WEBHOOK_ALLOW_PRIVATE`).
 * What a client sees: the Subscription turns active; matching changes arrive with the contract's
 * headers, body and signature, non-matching and rolled-back ones never; the secret is never
 * shown; the author's rights apply; failures turn it to `error` and back off; the delivery log is
 * the creator's to read; `$replay` re-delivers.
 */
import { createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { disableClientById } from '../../src/auth/client-admin.ts';
import { startReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let receiver: WebhookReceiver;

/** Each test follows codes of its own, so Subscriptions of other tests never match its changes. */
const newCode = () => `c-${randomUUID()}`;
const SYSTEM = 'urn:test:webhooks';

function subscription(code: string, path: string, channel: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Subscription', status: 'requested', reason: 'webhook test', criteria: `Observation?code=${SYSTEM}|${code}`,
    channel: { type: 'rest-hook', endpoint: `${receiver.url}${path}`, payload: 'application/fhir+json', ...channel },
  };
}

async function subscribe(body: Record<string, unknown>, token?: string): Promise<string> {
  const created = await fhirFetch(`${t.url}/fhir/Subscription`, { method: 'POST', body, token });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

async function readSubscription(id: string, token?: string): Promise<Record<string, any>> {
  const read = await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { token });
  expect(read.status, read.text).toBe(200);
  return read.body;
}

/** Waits until the Subscription's status is `status` (the server sets it in the background). */
async function waitForStatus(id: string, status: string, timeoutMs = 20_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const resource = await readSubscription(id);
    if (resource.status === status) return resource;
    if (Date.now() > deadline) throw new Error(`Subscription/${id} is ${resource.status}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function createObservation(code: string, token?: string): Promise<string> {
  // Written as text, so the decimal keeps its digits (1.50).
  const body = `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"${SYSTEM}","code":"${code}"}]},"valueQuantity":{"value":1.50,"unit":"mg"}}`;
  const created = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', token, body });
  expect(created.status, created.text).toBe(201);
  return created.body.id;
}

const forResource = (type: string, id: string) => (r: ReceivedWebhook) => String(r.headers['x-fhirgraph-resource']).startsWith(`${type}/${id}/`);
const ofSubscription = (id: string) => (r: ReceivedWebhook) => r.headers['x-fhirgraph-subscription'] === `Subscription/${id}`;

/** The delivery log of a Subscription, read as `token`'s client. */
async function deliveryLog(id: string, token?: string) {
  return fhirFetch(`${t.url}/fhir/AuditEvent?entity=Subscription/${id}&_count=100`, { token });
}

/** Waits until the dispatcher has matched everything committed so far (it reads the feed's table, stamped by the sequencer). */
async function dispatched(): Promise<void> {
  await t.server.changes.sequencer.flush();
  await t.server.webhooks.dispatcher.flush();
}

/** Delivery jobs (any state) of a Subscription, from the queue's table. */
async function jobsOf(id: string): Promise<number> {
  const rows = await t.server.service.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'webhook-delivery' AND data->>'subscriptionId' = $1`, [id]);
  return rows[0].n;
}

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({
    webhookAllowPrivate: true,
    webhooks: { timeoutMs: 3_000, retryPeriodMs: 10 * 60_000, retryMaxDelayMs: 2_000, concurrency: 8 },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('a rest-hook Subscription', () => {
  it('turns active and delivers matching changes with the headers, the version as body and the HMAC signature', async () => {
    const code = newCode();
    const secret = `s3cret-${randomUUID()}`;
    const id = await subscribe(subscription(code, '/deliver', { header: ['Authorization: Bearer integrator-token', `X-Fhirgraph-Secret: ${secret}`] }));
    const active = await waitForStatus(id, 'active');
    expect(active.channel.header).toEqual(['Authorization: Bearer integrator-token']);

    const observation = await createObservation(code);
    const other = await createObservation(newCode());
    const updated = await fhirFetch(`${t.url}/fhir/Observation/${observation}`, {
      method: 'PUT', body: { resourceType: 'Observation', id: observation, status: 'amended', code: { coding: [{ system: SYSTEM, code }] } },
    });
    expect(updated.status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Observation/${observation}`, { method: 'DELETE' })).status).toBe(200);

    // Deliveries run side by side: they arrive in any order.
    await receiver.waitUntil(() => receiver.on('/deliver').filter(ofSubscription(id)).length >= 3, 20_000, 'three deliveries');
    await dispatched();
    const mine = receiver.on('/deliver').filter(ofSubscription(id));
    expect(mine.map((r) => `${r.headers['x-fhirgraph-action']} ${r.headers['x-fhirgraph-resource']}`).sort()).toEqual([
      `create Observation/${observation}/_history/1`, `delete Observation/${observation}/_history/3`, `update Observation/${observation}/_history/2`,
    ]);
    expect(receiver.received.some(forResource('Observation', other))).toBe(false);

    const created = mine.find((r) => r.headers['x-fhirgraph-action'] === 'create')!;
    expect(created.headers.authorization).toBe('Bearer integrator-token');
    expect(created.headers['content-type']).toBe('application/fhir+json');
    expect(created.headers['x-fhirgraph-event-id']).toBe(`${id}.${created.headers['x-fhirgraph-event-cursor']}`);
    expect(created.headers['x-fhirgraph-attempt']).toBe('1');
    expect(created.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', secret).update(created.body).digest('hex')}`);
    const body = JSON.parse(created.body);
    expect(body).toMatchObject({ resourceType: 'Observation', id: observation, meta: { versionId: '1' }, status: 'final' });
    expect(created.body).toContain('"value":1.50'); // the stored text, exact decimals kept

    const deleted = mine.find((r) => r.headers['x-fhirgraph-action'] === 'delete')!;
    expect(deleted.body).toBe('');
    expect(deleted.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', secret).update('').digest('hex')}`);
    expect(new Set(mine.map((r) => r.headers['x-fhirgraph-event-id'])).size).toBe(3);
  });

  it('sends no body when channel.payload is absent, and is created through GraphQL like any resource', async () => {
    const code = newCode();
    const created = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: {
        query: `mutation { SubscriptionCreate(res: { status: "requested", reason: "graph", criteria: "Observation?code=${SYSTEM}|${code}",
          channel: { type: "rest-hook", endpoint: "${receiver.url}/graphql-made" } }) { id status } }`,
      },
    });
    expect(created.body.errors, created.text).toBeUndefined();
    const id = created.body.data.SubscriptionCreate.id;
    await waitForStatus(id, 'active');
    const observation = await createObservation(code);
    const got = await receiver.waitFor(forResource('Observation', observation));
    expect(got.path).toBe('/graphql-made');
    expect(got.body).toBe('');
    expect(got.headers['content-type']).toBeUndefined();
    expect(got.headers['x-fhirgraph-signature']).toBeUndefined();
  });

  it('delivers a change written right after its Subscription was created, before it shows as active', async () => {
    const pairs: { id: string; observation: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const code = newCode();
      const id = await subscribe(subscription(code, '/eager'));
      pairs.push({ id, observation: await createObservation(code) });
    }
    for (const { id, observation } of pairs) await receiver.waitFor((r) => ofSubscription(id)(r) && forResource('Observation', observation)(r));
  });

  it('delivers nothing for a rolled-back write', async () => {
    const code = newCode();
    const id = await subscribe(subscription(code, '/rollback'));
    await waitForStatus(id, 'active');
    const failed = await fhirFetch(`${t.url}/fhir`, {
      method: 'POST', body: {
        resourceType: 'Bundle', type: 'transaction', entry: [
          { resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: SYSTEM, code }] } }, request: { method: 'POST', url: 'Observation' } },
          { resource: { resourceType: 'Patient', id: 'nobody', active: true }, request: { method: 'PUT', url: 'Patient/nobody', ifMatch: 'W/"9"' } },
        ],
      },
    });
    expect(failed.status, failed.text).toBe(412);
    const marker = await createObservation(code);
    await receiver.waitFor(forResource('Observation', marker));
    await dispatched();
    expect(receiver.on('/rollback').map((r) => r.headers['x-fhirgraph-resource'])).toEqual([`Observation/${marker}/_history/1`]);
    expect(await jobsOf(id)).toBe(1);
  });

  it('refuses channels and criteria it cannot deliver, with the reason', async () => {
    const code = newCode();
    const refused = async (body: Record<string, unknown>, status: number, expression: string, reason: RegExp, token?: string) => {
      const answer = await fhirFetch(`${t.url}/fhir/Subscription`, { method: 'POST', body, token });
      expect(answer.status, answer.text).toBe(status);
      expect(answer.body.issue[0].diagnostics).toMatch(reason);
      if (expression) expect(answer.body.issue[0].expression).toEqual([expression]);
    };
    await refused(subscription(code, '/x', { endpoint: 'ftp://example.org/hook' }), 422, 'Subscription.channel.endpoint', /http or https/);
    await refused(subscription(code, '/x', { endpoint: 'https://user:pw@example.org/hook' }), 422, 'Subscription.channel.endpoint', /credentials/);
    await refused({ ...subscription(code, '/x'), criteria: 'Observation?flavour=sweet' }, 422, 'Subscription.criteria', /flavour/);
    await refused({ ...subscription(code, '/x'), criteria: 'Observation?code=x&_sort=date' }, 422, 'Subscription.criteria', /_sort/);
    await refused({ ...subscription(code, '/x'), criteria: 'code=x' }, 422, 'Subscription.criteria', /resource type/);
    await refused({ ...subscription(code, '/x'), criteria: 'AuditEvent?action=E' }, 422, 'Subscription.criteria', /AuditEvent/);
    await refused(subscription(code, '/x', { header: ['X-Injected: a\r\nHost: evil'] }), 422, 'Subscription.channel.header[0]', /line breaks/);
    await refused(subscription(code, '/x', { header: ['Host: evil.example'] }), 422, 'Subscription.channel.header[0]', /Host/);
    await refused(subscription(code, '/x', { header: ['X-Fhirgraph-Secret: short'] }), 422, 'Subscription.channel.header', /16/);
    await refused(subscription(code, '/x', { payload: 'application/fhir+xml' }), 422, 'Subscription.channel.payload', /not supported/);
    // Authorised like the same REST search, for the client writing it.
    const noSearch = await t.tokenWithScope('system/Subscription.cruds system/Observation.r');
    await refused(subscription(code, '/x'), 403, '', /search on Observation/, noSearch);
    const noChainSearch = await t.tokenWithScope('system/Subscription.cruds system/Observation.rs');
    await refused({ ...subscription(code, '/x'), criteria: 'Observation?subject:Patient.name=x' }, 403, '', /search on Patient/, noChainSearch);
  });

  it('accepts other channel types as stored resources and never delivers them', async () => {
    const code = newCode();
    const id = await subscribe({ ...subscription(code, '/x'), channel: { type: 'email', endpoint: 'mailto:someone@example.org' } });
    await createObservation(code);
    await dispatched();
    expect((await readSubscription(id)).status).toBe('requested');
    expect(await jobsOf(id)).toBe(0);
  });
});

describe('the secret', () => {
  it('is never returned by any read, and signs deliveries until it is removed', async () => {
    const code = newCode();
    const secret = `top-secret-${randomUUID()}`;
    const id = await subscribe(subscription(code, '/secret', { header: [`X-Fhirgraph-Secret: ${secret}`, 'X-Team: blue'] }));
    await waitForStatus(id, 'active');
    const reads = await Promise.all([
      fhirFetch(`${t.url}/fhir/Subscription/${id}`),
      fhirFetch(`${t.url}/fhir/Subscription/${id}/_history/1`),
      fhirFetch(`${t.url}/fhir/Subscription/${id}/_history`),
      fhirFetch(`${t.url}/fhir/Subscription?_id=${id}`),
      fhirFetch(`${t.url}/fhir/_history`),
      fhirFetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: { query: `{ Subscription(_id: "${id}") { channel { header } } }` } }),
    ]);
    for (const read of reads) {
      expect(read.status, read.text).toBe(200);
      expect(read.text).not.toContain(secret);
    }
    const stored = await t.server.service.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resource_history WHERE resource_type = 'Subscription' AND id = $1 AND content::text LIKE $2`, [id, `%${secret}%`]);
    expect(stored[0].n).toBe(0);

    const signed = await createObservation(code);
    const first = await receiver.waitFor(forResource('Observation', signed));
    expect(first.headers['x-team']).toBe('blue');
    expect(first.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', secret).update(first.body).digest('hex')}`);

    // Re-sending what it read keeps the secret…
    const current = await readSubscription(id);
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { method: 'PUT', body: { ...current, reason: 'kept' } })).status).toBe(200);
    await waitForStatus(id, 'active');
    const kept = await createObservation(code);
    const second = await receiver.waitFor(forResource('Observation', kept));
    expect(second.headers['x-fhirgraph-signature']).toBe(`sha256=${createHmac('sha256', secret).update(second.body).digest('hex')}`);
    // …an empty value removes it.
    const again = await readSubscription(id);
    const cleared = { ...again, channel: { ...again.channel, header: [...again.channel.header, 'X-Fhirgraph-Secret:'] } };
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { method: 'PUT', body: cleared })).status).toBe(200);
    await waitForStatus(id, 'active');
    const unsigned = await createObservation(code);
    const third = await receiver.waitFor(forResource('Observation', unsigned));
    expect(third.headers['x-fhirgraph-signature']).toBeUndefined();
  });
});

describe("the author's rights", () => {
  it('delivers nothing to a Subscription whose author may not read the resource type', async () => {
    const code = newCode();
    const blind = await t.tokenWithScope('system/Subscription.cruds system/Observation.cs');
    const withoutRead = await subscribe(subscription(code, '/blind'), blind);
    const control = await subscribe(subscription(code, '/sighted'));
    await Promise.all([waitForStatus(withoutRead, 'active'), waitForStatus(control, 'active')]);
    const observation = await createObservation(code);
    await receiver.waitFor(forResource('Observation', observation));
    await dispatched();
    expect(receiver.on('/blind')).toEqual([]);
    expect(await jobsOf(withoutRead)).toBe(0);
    expect(await jobsOf(control)).toBe(1);
  });

  it("stops a disabled client's Subscriptions", async () => {
    const code = newCode();
    const client = await t.createClient({ name: 'soon disabled', scope: 'system/*.*' });
    const token = await t.tokenFor(client.refresh_token!);
    const id = await subscribe(subscription(code, '/disabled'), token);
    const control = await subscribe(subscription(code, '/control'));
    await Promise.all([waitForStatus(id, 'active'), waitForStatus(control, 'active')]);
    const before = await createObservation(code);
    await receiver.waitFor((r) => r.path === '/disabled' && forResource('Observation', before)(r));

    await disableClientById(t.server.service.db, client.client_id);
    await t.server.security.state.refresh();
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}`, { token })).status).toBe(401);
    const after = await createObservation(code);
    await receiver.waitFor((r) => r.path === '/control' && forResource('Observation', after)(r));
    await dispatched();
    expect(receiver.on('/disabled').filter(forResource('Observation', after))).toEqual([]);
    expect(await jobsOf(id)).toBe(1);
  });
});

describe('failures', () => {
  it('retries with growing delays, turns the Subscription to error with the reason, and back to active once delivered', async () => {
    const code = newCode();
    receiver.statusFor('/flaky', 503);
    const id = await subscribe(subscription(code, '/flaky'));
    await waitForStatus(id, 'active');
    const observation = await createObservation(code);
    const attempts = () => receiver.on('/flaky').filter(forResource('Observation', observation));
    await receiver.waitUntil(() => attempts().length >= 5, 30_000, 'five attempts');
    const inError = await waitForStatus(id, 'error');
    expect(inError.error).toMatch(/5 consecutive deliveries failed; the last: the endpoint answered HTTP 503/);

    const seen = attempts();
    expect(seen.map((r) => r.headers['x-fhirgraph-attempt'])).toEqual(seen.map((_, i) => String(i + 1)));
    expect(new Set(seen.map((r) => r.headers['x-fhirgraph-event-id'])).size).toBe(1);
    // Exponential backoff with equal jitter, capped at 2 s here: attempt k+1 waits at least half of min(2 s, 1 s·2^(k-1)).
    for (let k = 1; k < seen.length; k++) {
      const least = Math.min(2_000, 1_000 * 2 ** (k - 1)) / 2;
      expect(seen[k].receivedAt - seen[k - 1].receivedAt).toBeGreaterThanOrEqual(least - 50);
    }

    receiver.statusFor('/flaky', 200);
    const recovered = await waitForStatus(id, 'active', 30_000);
    expect(recovered.error).toBeUndefined();
    const log = await deliveryLog(id);
    const attemptsLogged = log.body.entry.map((e: any) => e.resource).filter((e: any) => e.subtype[0].code === 'webhook-attempt');
    const outcomes = attemptsLogged.map((e: any) => e.outcome);
    expect(outcomes.filter((o: string) => o === '0')).toHaveLength(1);
    expect(outcomes.filter((o: string) => o === '8').length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});

describe('the delivery log', () => {
  it("is readable by the Subscription's creator at AuditEvent?entity=Subscription/{id}, and by nobody else but admins", async () => {
    const code = newCode();
    const creator = await t.tokenWithScope('system/Subscription.cruds system/Observation.rs');
    const stranger = await t.tokenWithScope('system/Subscription.cruds system/Observation.rs');
    const id = await subscribe(subscription(code, '/logged'), creator);
    await waitForStatus(id, 'active');
    const observation = await createObservation(code);
    const delivered = await receiver.waitFor(forResource('Observation', observation));
    let log = await deliveryLog(id, creator);
    for (let i = 0; i < 50 && log.status === 200 && (log.body.entry ?? []).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      log = await deliveryLog(id, creator);
    }
    expect(log.status, log.text).toBe(200);
    expect(log.body.entry).toHaveLength(1);
    const event = log.body.entry[0].resource;
    expect(event).toMatchObject({
      resourceType: 'AuditEvent', action: 'E', outcome: '0',
      type: { code: '110106' }, subtype: [{ code: 'webhook-attempt' }],
      entity: [{ what: { reference: `Subscription/${id}` } }, { what: { reference: `Observation/${observation}` } }],
    });
    const detail = Object.fromEntries(event.entity[0].detail.map((d: any) => [d.type, d.valueString]));
    expect(detail).toMatchObject({ statusCode: '200', attempt: '1', eventId: delivered.headers['x-fhirgraph-event-id'], action: 'create' });
    expect(Number(detail.latencyMs)).toBeGreaterThanOrEqual(0);

    expect((await deliveryLog(id, stranger)).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent`, { token: creator })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent?entity=Observation/${observation}`, { token: creator })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/AuditEvent?entity=Subscription/${id}&_include=AuditEvent:entity`, { token: creator })).status).toBe(403);
    const admin = await deliveryLog(id);
    expect(admin.status).toBe(200);
    expect(admin.body.entry.length).toBeGreaterThanOrEqual(2); // the admin also sees the creator's own requests on it
  });
});

describe('$replay', () => {
  it('re-delivers the matching changes after a cursor or an instant, with their original event ids', async () => {
    const code = newCode();
    const id = await subscribe(subscription(code, '/replay'));
    await waitForStatus(id, 'active');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await createObservation(code));
    await createObservation(newCode());
    await receiver.waitUntil(() => receiver.on('/replay').length >= 4, 20_000, 'four deliveries');
    const original = receiver.on('/replay');
    const first = original.find(forResource('Observation', ids[0]))!;
    const eventIds = new Map(original.map((r) => [r.headers['x-fhirgraph-resource'], r.headers['x-fhirgraph-event-id']]));

    const replay = await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay?since=${first.headers['x-fhirgraph-event-cursor']}`, { method: 'POST' });
    expect(replay.status, replay.text).toBe(202);
    await receiver.waitUntil(() => receiver.on('/replay').length >= 7, 20_000, 'three replayed deliveries');
    const replayed = receiver.on('/replay').slice(original.length);
    expect(replayed.map((r) => r.headers['x-fhirgraph-resource']).sort()).toEqual(ids.slice(1).map((o) => `Observation/${o}/_history/1`).sort());
    for (const r of replayed) expect(r.headers['x-fhirgraph-event-id']).toBe(eventIds.get(r.headers['x-fhirgraph-resource']));

    const since = new Date(first.receivedAt - 60_000).toISOString();
    const byInstant = await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay`, {
      method: 'POST', body: { resourceType: 'Parameters', parameter: [{ name: 'since', valueInstant: since }] },
    });
    expect(byInstant.status, byInstant.text).toBe(202);
    await receiver.waitUntil(() => receiver.on('/replay').length >= 11, 20_000, 'four more replayed deliveries');

    const other = await t.tokenWithScope('system/*.*');
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay?since=${since}`, { method: 'POST', token: other })).status).toBe(403);
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay?since=nonsense`, { method: 'POST' })).status).toBe(400);
    expect((await fhirFetch(`${t.url}/fhir/Subscription/${id}/$replay`, { method: 'POST' })).status).toBe(400);
    const metadata = await fhirFetch(`${t.url}/fhir/metadata`);
    const operationsOf = (type: string) => metadata.body.rest[0].resource.find((r: any) => r.type === type).operation.map((o: any) => o.name);
    expect(operationsOf('Subscription')).toContain('replay');
    expect(operationsOf('Patient')).not.toContain('replay');
  });
});

describe('latency', () => {
  it('delivers within 1 s of commit while another database of the cluster holds a transaction open', async () => {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    const name = `fhirgraph_other_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const otherUrl = new URL(inject('adminDatabaseUrl'));
    otherUrl.pathname = `/${name}`;
    const other = new pg.Client({ connectionString: otherUrl.toString() });
    await other.connect();
    try {
      const code = newCode();
      const id = await subscribe(subscription(code, '/latency'));
      await waitForStatus(id, 'active');
      await other.query('BEGIN');
      await other.query('CREATE TABLE held (x int)');
      for (let i = 0; i < 5; i++) {
        const observation = await createObservation(code);
        const committed = Date.now(); // the 201 came after the commit
        const got = await receiver.waitFor(forResource('Observation', observation), 5_000);
        expect(got.receivedAt - committed).toBeLessThan(1_000);
      }
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
