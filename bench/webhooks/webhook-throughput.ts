/**
 * Webhook deliveries per second (issue 16's bench line), beside a baseline: the same number of
 * plain HTTP POSTs, with bodies of the same size, sent from this one Node process to the same
 * receiver at the delivery workers' concurrency (`WEBHOOK_CONCURRENCY`, 16). Two fhirgraph figures:
 *
 * - live: a rest-hook Subscription follows `events` Patients committed through transaction
 *   Bundles; from the first Bundle sent to the last delivery (so ingest counts too), with each
 *   event's latency from its Bundle's answer to its delivery (p50, p99);
 * - replay: `$replay` of the same events, from the request to the last delivery: matching, the job
 *   queue and the POSTs without the ingest.
 *
 * The receiver (here, on loopback) answers 200 at once; the server runs with
 * `WEBHOOK_ALLOW_PRIVATE=true`. The Patients carry the bench's write identifier, so the run
 * removes them afterwards; the Subscription is deleted.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_WRITE_SYSTEM } from '../lib/bench-database.ts';

/** What the webhook bench measured. */
export interface WebhookFigures {
  events: number;
  concurrency: number;
  /** Plain POSTs from one Node process to the same receiver. */
  baselinePerSecond: number;
  /** Events committed and delivered per second, first Bundle to last delivery. */
  livePerSecond: number;
  /** Commit (the Bundle's answer) to delivery. */
  liveP50Ms: number;
  liveP99Ms: number;
  /** `$replay` of the same events, request to last delivery. */
  replayPerSecond: number;
  /** Deliveries beyond one per event (at-least-once repeats). */
  duplicates: number;
}

interface Arrival {
  at: number;
  /** `Type/id/_history/v` of a delivery. */
  resource?: string;
}

interface Receiver {
  url: string;
  /** First arrival per key (a delivery's event id, or the baseline's request number). */
  arrivals: Map<string, Arrival>;
  /** Every request received (repeats included). */
  readonly total: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, Arrival>();
  const state = { total: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['x-fhirgraph-event-id'] ?? req.headers['x-request']);
      if (!arrivals.has(key)) arrivals.set(key, { at: performance.now(), resource: req.headers['x-fhirgraph-resource'] as string | undefined });
      state.total++;
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    get total() { return state.total; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`webhook bench: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `events` POSTs of `body` to the receiver, `concurrency` at a time over keep-alive connections; per second. */
async function baseline(receiver: Receiver, events: number, concurrency: number, body: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < events) {
      const n = next++;
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${receiver.url}/baseline`, {
          method: 'POST', agent, headers: { 'content-type': 'application/fhir+json', 'x-request': `baseline-${n}`, 'content-length': Buffer.byteLength(body) },
        }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end(body);
      });
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return Math.round(events / seconds);
}

/** Runs the webhook bench against the fhirgraph at `origin`, acting with `token` (an admin with `system/*.*`). */
export async function measureWebhooks(origin: string, token: string, options: { events?: number; concurrency?: number; log?: (m: string) => void } = {}): Promise<WebhookFigures> {
  const events = options.events ?? 2_000;
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? (() => undefined);
  const call = async (path: string, method: string, body?: unknown) => {
    const response = await fetch(`${origin}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`webhook bench: ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const receiver = await startReceiver();
  const run = `webhook-${randomUUID()}`;
  const patient = (i: number) => ({ resourceType: 'Patient', identifier: [{ system: BENCH_WRITE_SYSTEM, value: run }], name: [{ family: `Hook${i}`, given: ['Bench'] }], birthDate: '1970-01-01' });
  let subscription: string | undefined;
  try {
    const baselinePerSecond = await baseline(receiver, events, concurrency, JSON.stringify({ ...patient(0), id: randomUUID(), meta: { versionId: '1', lastUpdated: new Date().toISOString() } }));
    log(`  plain POSTs from one process: ${baselinePerSecond}/s`);

    subscription = (await call('/fhir/Subscription', 'POST', {
      resourceType: 'Subscription', status: 'requested', reason: 'bench', criteria: `Patient?identifier=${BENCH_WRITE_SYSTEM}|${run}`,
      channel: { type: 'rest-hook', endpoint: `${receiver.url}/hook`, payload: 'application/fhir+json', header: [`X-Fhirgraph-Secret: ${randomUUID()}`] },
    })).id as string;
    const deadline = Date.now() + 30_000;
    while ((await call(`/fhir/Subscription/${subscription}`, 'GET')).status !== 'active') {
      if (Date.now() > deadline) throw new Error('webhook bench: the Subscription did not turn active');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Live: Bundles of 100, 4 in flight; an event's commit time is its Bundle's answer.
    const since = new Date(Date.now() - 1_000).toISOString();
    const committedAt = new Map<string, number>();
    const started = performance.now();
    let sent = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (sent < events) {
        const from = sent;
        const size = Math.min(100, events - from);
        sent += size;
        const entry = Array.from({ length: size }, (_, i) => ({ resource: patient(from + i), request: { method: 'POST', url: 'Patient' } }));
        const result = await call('/fhir', 'POST', { resourceType: 'Bundle', type: 'transaction', entry });
        const at = performance.now();
        for (const e of result.entry as { response: { location: string } }[]) committedAt.set(`Patient/${e.response.location.split('/')[1]}`, at);
      }
    }));
    const live = () => [...receiver.arrivals.values()].filter((a) => a.resource);
    await waitFor(() => live().length >= events, 300_000, `${events} live deliveries`);
    const last = Math.max(...live().map((a) => a.at));
    const livePerSecond = Math.round(events / ((last - started) / 1000));
    const latencies = live().map((a) => a.at - (committedAt.get(a.resource!.split('/_history')[0]) ?? a.at)).sort((a, b) => a - b);
    log(`  live: ${events} events committed and delivered in ${((last - started) / 1000).toFixed(1)} s`);
    const liveTotal = receiver.total - events;

    // Replay: the same events again, from the request on.
    const before = receiver.total;
    const replayStarted = performance.now();
    await call(`/fhir/Subscription/${subscription}/$replay?since=${encodeURIComponent(since)}`, 'POST');
    await waitFor(() => receiver.total - before >= events, 300_000, `${events} replayed deliveries`);
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    log(`  replay: ${events} deliveries in ${replaySeconds.toFixed(1)} s`);

    return {
      events, concurrency, baselinePerSecond, livePerSecond, liveP50Ms: Math.round(percentile(latencies, 50)), liveP99Ms: Math.round(percentile(latencies, 99)),
      replayPerSecond: Math.round(events / replaySeconds), duplicates: Math.max(0, liveTotal - events),
    };
  } finally {
    if (subscription) await call(`/fhir/Subscription/${subscription}`, 'DELETE').catch(() => undefined);
    await receiver.close();
  }
}
