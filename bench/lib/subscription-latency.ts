/**
 * Commit-to-subscriber latency of GraphQL subscriptions with 1,000 open (`--only
 * subscription-latency`), beside its baseline measured in the same run: a raw PostgreSQL
 * `NOTIFY` → `LISTEN` round trip (the floor any change notification built on PostgreSQL pays).
 *
 * fhirgraph: 1,000 `PatientChanged(criteria: "identifier=urn:bench|latency", actions: [CREATE])`
 * subscriptions over 50 WebSockets (20 each, 10 per client: the default `WS_MAX_*`), all of them
 * matching every event, so each event is matched, executed and sent 1,000 times. Events are
 * created one at a time through `POST /fhir/Patient`; a sample is the time from sending that
 * request to one subscriber's receipt of the event (so it includes the write itself: HTTP,
 * validation, the transaction), one sample per event and subscriber. The baseline's sample is the
 * time from sending `SELECT pg_notify(…)` to its arrival on a listening connection.
 * The load generator runs on the same machine and receives the 1,000 messages itself.
 */
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { BENCH_WRITE_SYSTEM } from './bench-database.ts';

/** The workload id, for `--only`. */
export const SUBSCRIPTION_LATENCY_ID = 'subscription-latency';

/** Latency percentiles of a set of samples, in milliseconds. */
export interface LatencyFigures {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What the measurement reports. */
export interface SubscriptionLatencyResult {
  subscriptions: number;
  connections: number;
  /** Events measured (after the warm-up). */
  events: number;
  /** Write sent → event received by a subscriber, every subscriber of every event. */
  fhirgraph: LatencyFigures;
  /** `NOTIFY` sent → received on a `LISTEN` connection. */
  listenNotify: LatencyFigures;
}

/** How to measure. */
export interface SubscriptionLatencyOptions {
  origin: string;
  databaseUrl: string;
  /** Access tokens of distinct clients, enough for `subscriptions / 200` of them (10 sockets of 20 each). */
  tokens: string[];
  subscriptions?: number;
  events?: number;
  log?: (message: string) => void;
}

const PER_CONNECTION = 20;
const CONNECTIONS_PER_CLIENT = 10;
const WARMUP_EVENTS = 5;
const GAP_MS = 50;
const SUBSCRIPTION = `subscription { PatientChanged(criteria: "identifier=${BENCH_WRITE_SYSTEM}|latency", actions: [CREATE]) { id } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function figures(samples: readonly number[]): LatencyFigures {
  const round = (n: number) => Math.round(n * 10) / 10;
  return { samples: samples.length, p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)), maxMs: round(Math.max(0, ...samples)) };
}

/** Waits until `check` holds, polling every few milliseconds; throws after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string, failures: readonly unknown[] = []): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (failures.length > 0) throw new Error(`a bench subscription failed: ${JSON.stringify(failures[0]).slice(0, 300)}`);
    if (performance.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** The baseline: `events` NOTIFY → LISTEN round trips on the bench database. */
async function measureListenNotify(databaseUrl: string, events: number): Promise<number[]> {
  const listener = new pg.Client({ connectionString: databaseUrl });
  const notifier = new pg.Client({ connectionString: databaseUrl });
  await Promise.all([listener.connect(), notifier.connect()]);
  try {
    const arrived = new Map<string, number>();
    listener.on('notification', (message) => arrived.set(message.payload ?? '', performance.now()));
    await listener.query('LISTEN bench_latency');
    const samples: number[] = [];
    for (let i = 0; i < WARMUP_EVENTS + events; i++) {
      const sent = performance.now();
      await notifier.query('SELECT pg_notify($1, $2)', ['bench_latency', String(i)]);
      await until(() => arrived.has(String(i)), 10_000, `notification ${i}`);
      if (i >= WARMUP_EVENTS) samples.push(arrived.get(String(i))! - sent);
      await sleep(GAP_MS);
    }
    return samples;
  } finally {
    await Promise.all([listener.end(), notifier.end()]);
  }
}

/** Opens the subscriptions: `PER_CONNECTION` on each socket, `CONNECTIONS_PER_CLIENT` sockets per token. */
function openSubscriptions(origin: string, tokens: string[], subscriptions: number, onEvent: (id: string, at: number) => void, failures: unknown[]): Client[] {
  const clients: Client[] = [];
  const connections = Math.ceil(subscriptions / PER_CONNECTION);
  if (tokens.length * CONNECTIONS_PER_CLIENT < connections) throw new Error(`${connections} connections need ${Math.ceil(connections / CONNECTIONS_PER_CLIENT)} clients' tokens`);
  for (let c = 0; c < connections; c++) {
    const client = createClient({
      url: `${origin.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${tokens[Math.floor(c / CONNECTIONS_PER_CLIENT)]}` },
    });
    clients.push(client);
    for (let s = 0; s < Math.min(PER_CONNECTION, subscriptions - c * PER_CONNECTION); s++) {
      client.subscribe<{ PatientChanged: { id: string } }>({ query: SUBSCRIPTION }, {
        next: (result) => {
          const at = performance.now();
          const id = result.data?.PatientChanged.id;
          if (id) onEvent(id, at);
        },
        error: (err) => { failures.push(err); },
        complete: () => undefined,
      });
    }
  }
  return clients;
}

/** Creates one bench Patient; resolves with its id and when the request was sent. */
async function createPatient(origin: string, token: string, n: number): Promise<{ id: string; sent: number }> {
  const body = JSON.stringify({ resourceType: 'Patient', identifier: [{ system: BENCH_WRITE_SYSTEM, value: 'latency' }], name: [{ family: `Latency${n}` }] });
  const sent = performance.now();
  const res = await fetch(`${origin}/fhir/Patient`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body });
  const created = (await res.json()) as { id?: string };
  if (res.status !== 201 || !created.id) throw new Error(`the bench create answered ${res.status}`);
  return { id: created.id, sent };
}

/** Runs the measurement and its baseline; see the module comment. */
export async function measureSubscriptionLatency(options: SubscriptionLatencyOptions): Promise<SubscriptionLatencyResult> {
  const subscriptions = options.subscriptions ?? 1_000;
  const events = options.events ?? 40;
  const arrivals = new Map<string, number[]>();
  const failures: unknown[] = [];
  const clients = openSubscriptions(options.origin, options.tokens, subscriptions, (id, at) => {
    const list = arrivals.get(id);
    if (list) list.push(at);
    else arrivals.set(id, [at]);
  }, failures);
  try {
    // Subscriptions start asynchronously: warm up until an event reaches every one of them.
    let live = false;
    for (let attempt = 0; attempt < 100 && !live; attempt++) {
      const { id } = await createPatient(options.origin, options.tokens[0], -attempt - 1);
      live = await until(() => (arrivals.get(id)?.length ?? 0) >= subscriptions, 2_000, 'warm-up', failures).then(() => true, (err: Error) => {
        if (failures.length > 0) throw err;
        return false;
      });
    }
    if (!live) throw new Error(`the ${subscriptions} subscriptions did not all start`);
    options.log?.(`${subscriptions} subscriptions live on ${clients.length} sockets; measuring ${events} events`);
    const samples: number[] = [];
    for (let i = 0; i < WARMUP_EVENTS + events; i++) {
      const { id, sent } = await createPatient(options.origin, options.tokens[0], i);
      await until(() => (arrivals.get(id)?.length ?? 0) >= subscriptions, 30_000, `event ${i} reaching every subscriber`, failures);
      if (i >= WARMUP_EVENTS) samples.push(...arrivals.get(id)!.map((at) => at - sent));
      await sleep(GAP_MS);
    }
    const baseline = await measureListenNotify(options.databaseUrl, events);
    return { subscriptions, connections: clients.length, events, fhirgraph: figures(samples), listenNotify: figures(baseline) };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}
