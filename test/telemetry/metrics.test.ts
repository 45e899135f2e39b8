/**
 * Issue 19's Prometheus metrics as a scraper sees them: a real server with its metrics listener on
 * an ephemeral port takes known traffic (REST reads and creates, a 404, 401s, a 403, 429s, a named
 * GraphQL operation, a webhook delivery, an export), then `GET /metrics` holds the expected series
 * and counts, labelled by route pattern, never by a URL or an id. `METRICS_PORT=0` starts no listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { createTestDatabase } from '../helpers/test-database.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';
import { awaitManifest, startExport } from '../operations/export-helpers.ts';
import { connect, record } from '../helpers/subscription-client.ts';

let t: TestServer;
let receiver: WebhookReceiver;

interface Sample { name: string; labels: Record<string, string>; value: number }

/** The samples of a Prometheus text exposition (no escaped quotes in our label values). */
function parseScrape(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split('",')) {
      const at = pair.indexOf('="');
      if (at > 0) labels[pair.slice(0, at)] = pair.slice(at + 2).replace(/"$/, '');
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(t.server.metricsUrl!);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, samples: parseScrape(text) };
}

/** The value of the one sample named `name` whose labels include `labels` (undefined: none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes until `test` holds (background work is counted when it ends), or fails after `timeoutMs`. */
async function scrapeUntil(test: (samples: Sample[]) => boolean, what: string, timeoutMs = 30_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { samples } = await scrape();
    if (test(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`the metrics never showed ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const DURATION = 'fhirgraph_http_request_duration_seconds_count';

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({ metrics: { host: '127.0.0.1', port: 'ephemeral' }, webhookAllowPrivate: true });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('GET /metrics after known traffic', () => {
  it('counts REST requests by method, route pattern and status, and refusals by reason, without ids or URLs', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', gender: 'female', name: [{ family: 'Scrapewell' }] } });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    for (let i = 0; i < 2; i++) expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/no-such-patient-4711`)).status).toBe(404);
    expect((await fhirFetch(`${t.url}/no/such/route/secret-path`)).status).toBe(404);
    expect((await fhirFetch(`${t.url}/fhir/Patient?name=Scrapewell`, { token: null })).status).toBe(401);
    expect((await fhirFetch(`${t.url}/fhir/Patient?name=Scrapewell`, { token: 'not-a-jwt' })).status).toBe(401);
    const observationsOnly = await t.tokenWithScope('system/Observation.read');
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`, { token: observationsOnly })).status).toBe(403);
    // A client allowed 2 requests a second: a burst of 8 is refused in part.
    const slow = await t.tokenWithScope('system/*.read', { rate: '2/s' });
    const burst = await Promise.all(Array.from({ length: 8 }, () => fhirFetch(`${t.url}/fhir/Patient/${id}`, { token: slow })));
    const refused = burst.filter((r) => r.status === 429).length;
    expect(refused).toBeGreaterThan(0);

    const { text, samples } = await scrape();
    expect(valueOf(samples, DURATION, { method: 'POST', route: '/fhir/Patient', status: '201' })).toBe(1);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '/fhir/Patient/:id', status: '200' })).toBe(2 + burst.length - refused);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '/fhir/Patient/:id', status: '404' })).toBe(1);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '/fhir/Patient/:id', status: '403' })).toBe(1);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '/fhir/Patient/:id', status: '429' })).toBe(refused);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
    expect(valueOf(samples, DURATION, { method: 'GET', route: '/fhir/Patient', status: '401' })).toBe(2);
    expect(valueOf(samples, 'fhirgraph_http_request_duration_seconds_bucket', { method: 'POST', route: '/fhir/Patient', status: '201', le: '+Inf' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_auth_refusals_total', { reason: 'missing' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_auth_refusals_total', { reason: 'malformed' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_auth_refusals_total', { reason: 'forbidden' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_rate_limit_rejections_total', { route: '/fhir/Patient/:id' })).toBe(refused);
    expect(valueOf(samples, 'fhirgraph_audit_events_dropped_total')).toBe(0);
    // Telemetry never carries PHI: no id, name, query string or unmatched path.
    for (const secret of [id, 'no-such-patient-4711', 'Scrapewell', 'secret-path', 'not-a-jwt']) expect(text).not.toContain(secret);
  });

  it('counts a named GraphQL operation with its cost and statements', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', gender: 'male' } });
    const answer = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: { query: 'query PatientGender($id: ID!) { Patient(id: $id) { gender } }', operationName: 'PatientGender', variables: { id: patient.body.id } },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data.Patient.gender).toBe('male');
    const broken = await fhirFetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: { query: '{ NoSuchField }' } });
    expect(broken.body.errors).toBeDefined();

    const { text, samples } = await scrape();
    expect(valueOf(samples, 'fhirgraph_graphql_operations_total', { type: 'query', name: 'PatientGender', outcome: 'ok' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_graphql_operations_total', { type: 'unknown', name: '(anonymous)', outcome: 'error' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_graphql_operation_cost_count', { type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'fhirgraph_graphql_operation_statements_count', { type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'fhirgraph_graphql_operation_statements_sum', { type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, DURATION, { method: 'POST', route: '/graphql', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(patient.body.id);
  });

  it('reports the pool, statement durations, the backlog and the process', async () => {
    const { samples } = await scrape();
    expect(valueOf(samples, 'fhirgraph_db_pool_connections_max')).toBe(t.config.poolSize);
    for (const name of ['fhirgraph_db_pool_connections_in_use', 'fhirgraph_db_pool_connections_idle', 'fhirgraph_db_pool_waiting']) {
      expect(valueOf(samples, name)).toBeGreaterThanOrEqual(0);
    }
    expect(valueOf(samples, 'fhirgraph_db_statement_duration_seconds_count', { statement: 'read-current' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'fhirgraph_db_statement_duration_seconds_count', { statement: 'select' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'fhirgraph_change_feed_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'fhirgraph_job_queue_depth', { queue: 'webhook-delivery' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'fhirgraph_job_queue_oldest_age_seconds', { queue: 'webhook-delivery' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('counts webhook attempts by outcome and exports by event', async () => {
    const sub = await fhirFetch(`${t.url}/fhir/Subscription`, {
      method: 'POST', body: {
        resourceType: 'Subscription', status: 'requested', reason: 'metrics', criteria: 'Observation?code=urn:test:metrics|beat',
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/hook`, payload: 'application/fhir+json' },
      },
    });
    expect(sub.status).toBe(201);
    const deadline = Date.now() + 30_000;
    while ((await fhirFetch(`${t.url}/fhir/Subscription/${sub.body.id}`)).body.status !== 'active') {
      if (Date.now() > deadline) throw new Error('the Subscription never became active');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const observed = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'urn:test:metrics', code: 'beat' }] } } });
    expect(observed.status).toBe(201);
    await receiver.waitFor((r) => r.path === '/hook' && String(r.headers['x-fhirgraph-resource']).startsWith(`Observation/${observed.body.id}/`), 30_000, 'the delivery');
    await scrapeUntil((s) => (valueOf(s, 'fhirgraph_webhook_attempts_total', { outcome: 'delivered' }) ?? 0) >= 1, 'a delivered webhook');

    const status = await startExport(`${t.url}/fhir/$export?_type=Patient`, t.adminToken);
    await awaitManifest(status, t.adminToken);
    const samples = await scrapeUntil((s) => valueOf(s, 'fhirgraph_export_jobs_total', { event: 'completed' }) === 1, 'a completed export');
    expect(valueOf(samples, 'fhirgraph_export_jobs_total', { event: 'accepted' })).toBe(1);
    expect(valueOf(samples, 'fhirgraph_export_jobs_total', { event: 'failed' })).toBe(0);
    expect(valueOf(samples, 'fhirgraph_webhook_attempts_total', { outcome: 'failed' })).toBe(0);
  });

  it('counts subscription starts over WebSocket as operations of type subscription, refusals as errors', async () => {
    const connection = await connect(t.url, t.adminToken);
    try {
      const started = record(connection, 'subscription PatientWatch { PatientChanged { id } }');
      const refused = record(connection, 'subscription PatientWatch { PatientChanged(criteria: "no-such-param=1") { id } }');
      await refused.waitForFailure();
      const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', gender: 'other' } });
      await started.waitFor((data) => data.PatientChanged.id === created.body.id);
      const { samples } = await scrape();
      expect(valueOf(samples, 'fhirgraph_graphql_operations_total', { type: 'subscription', name: 'PatientWatch', outcome: 'ok' })).toBe(1);
      expect(valueOf(samples, 'fhirgraph_graphql_operations_total', { type: 'subscription', name: 'PatientWatch', outcome: 'error' })).toBe(1);
      expect(valueOf(samples, 'fhirgraph_rate_limit_rejections_total', { route: 'graphql-ws subscribe' })).toBeUndefined();
    } finally {
      await connection.dispose();
    }
  });

  it('counts graphql-ws starts beyond WS_MAX_SUBSCRIPTIONS and connections beyond WS_MAX_CONNECTIONS_PER_CLIENT as rate-limit rejections', async () => {
    const { maxSubscriptions, maxConnectionsPerClient } = t.config.websocket;
    const busy = await t.tokenWithScope('system/*.read');
    const connections = await Promise.all(Array.from({ length: maxConnectionsPerClient }, () => connect(t.url, busy)));
    try {
      const extra = await connect(t.url, busy, { waitForAck: false });
      expect((await extra.closed).code).toBe(4429);
      const held = Array.from({ length: maxSubscriptions }, () => record(connections[0], 'subscription Held { PatientChanged { id } }'));
      const beyond = record(connections[0], 'subscription Beyond { PatientChanged { id } }');
      await beyond.waitForFailure();
      const { samples } = await scrape();
      expect(valueOf(samples, 'fhirgraph_rate_limit_rejections_total', { route: 'graphql-ws connection' })).toBe(1);
      expect(valueOf(samples, 'fhirgraph_rate_limit_rejections_total', { route: 'graphql-ws subscribe' })).toBe(1);
      expect(valueOf(samples, 'fhirgraph_graphql_operations_total', { type: 'subscription', name: 'Beyond', outcome: 'error' })).toBe(1);
      for (const h of held) h.unsubscribe();
    } finally {
      await Promise.all(connections.map((c) => c.dispose()));
    }
  });

  it('serves only GET /metrics, without a token, outside the API', async () => {
    const base = t.server.metricsUrl!.replace(/\/metrics$/, '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/fhir/metadata`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(200);
    // Scrapes are not API requests: they are neither timed nor rate-limited nor audited.
    const before = await scrape();
    await scrape();
    const after = await scrape();
    const total = (s: Sample[]) => s.filter((x) => x.name === DURATION).reduce((sum, x) => sum + x.value, 0);
    expect(total(after.samples)).toBe(total(before.samples));
  });
});

describe('METRICS_HOST and METRICS_PORT', () => {
  it('default to 127.0.0.1:9464; 0 turns metrics off; anything but a port stops the start', () => {
    expect(loadConfig({}).metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadConfig({ METRICS_HOST: '0.0.0.0', METRICS_PORT: '9100' }).metrics).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(loadConfig({ METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ METRICS_PORT: 'on' })).toThrow(/METRICS_PORT/);
  });

  it('starts no listener and records nothing with METRICS_PORT=0', async () => {
    const off = await startTestServer({ metrics: loadConfig({ METRICS_PORT: '0' }).metrics });
    try {
      expect(off.server.metricsUrl).toBeUndefined();
      expect(off.server.metrics).toBeUndefined();
      expect((await fhirFetch(`${off.url}/fhir/metadata`)).status).toBe(200);
    } finally {
      await off.close();
    }
  }, 120_000);

  it('refuses to start when METRICS_PORT is taken, and leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const db = await createTestDatabase();
    try {
      await expect(startTestServer({ metrics: { host: '127.0.0.1', port } }, db)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await db.drop();
    }
  }, 120_000);
});
