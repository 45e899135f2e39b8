/**
 * A real webhook endpoint for tests: an HTTP server on loopback that records every request it
 * gets (headers, body, arrival time) and answers with a status chosen per path, and that can go
 * down (its port refuses connections) and come back on the same port. Tests wait for what they
 * expect with a generous timeout, never a fixed sleep.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the endpoint received. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `Date.now()` when it arrived. */
  receivedAt: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** The status answered on a path (default 200). */
  statusFor(path: string, status: number): void;
  /** Delays every answer by `ms`. */
  delay(ms: number): void;
  /** Requests received on `path` (all when absent). */
  on(path?: string): ReceivedWebhook[];
  /** Resolves with the first request matching `test`, or rejects after `timeoutMs`. */
  waitFor(test: (r: ReceivedWebhook) => boolean, timeoutMs?: number, what?: string): Promise<ReceivedWebhook>;
  /** Resolves once `count()` reaches `n`, or rejects after `timeoutMs`. */
  waitUntil(condition: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Stops listening (connections are refused) until {@link up}. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port (or `port`). */
export async function startReceiver(port = 0): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const statuses = new Map<string, number>();
  const waiters = new Set<() => void>();
  let delayMs = 0;
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
      for (const waiter of waiters) waiter();
      const answer = () => {
        res.statusCode = statuses.get(path) ?? 200;
        res.end('ok');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  };
  let server: Server = createServer(handler);
  const listen = (onPort: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(onPort, '127.0.0.1', () => resolve());
  });
  await listen(port);
  const actual = (server.address() as AddressInfo).port;
  const waitUntil = (condition: () => boolean, timeoutMs = 20_000, what = 'condition') => new Promise<void>((resolve, reject) => {
    if (condition()) return resolve();
    const check = () => {
      if (!condition()) return;
      clearTimeout(timer);
      clearInterval(poll);
      waiters.delete(check);
      resolve();
    };
    const poll = setInterval(check, 100);
    const timer = setTimeout(() => {
      waiters.delete(check);
      clearInterval(poll);
      reject(new Error(`${what} not reached within ${timeoutMs} ms; received ${received.length} webhooks`));
    }, timeoutMs);
    waiters.add(check);
  });
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    statusFor: (path, status) => { statuses.set(path, status); },
    delay: (ms) => { delayMs = ms; },
    on: (path) => (path === undefined ? [...received] : received.filter((r) => r.path === path)),
    async waitFor(test, timeoutMs = 20_000, what = 'webhook') {
      await waitUntil(() => received.some(test), timeoutMs, what);
      return received.find(test)!;
    },
    waitUntil,
    async down() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      server = createServer(handler);
      await listen(actual);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
