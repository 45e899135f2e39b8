/**
 * GraphQL subscriptions over a real WebSocket for tests: the `graphql-ws` client (with `ws` as its
 * WebSocket) connected to a test server's `ws://…/graphql`, recording what each subscription
 * receives so a test can wait for an event (with a generous timeout, never a fixed sleep), and
 * how the socket closed.
 */
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** How a socket closed. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** A connected graphql-ws client and how its socket ends. */
export interface WsConnection {
  client: Client;
  /** Resolves with the first close of the socket. */
  closed: Promise<CloseInfo>;
  /** The raw socket, once open (to pause reading, as a slow consumer). */
  socket(): WebSocket;
  dispose(): Promise<void>;
}

/** What one subscription receives. */
export interface Recorded {
  /** The `data` of each `next` message, in order. */
  readonly data: any[];
  /** Each `next` message whole (data and errors). */
  readonly results: FormattedExecutionResult<any, unknown>[];
  /** The errors of an `error` message, or the close event that ended it. */
  readonly failures: unknown[];
  readonly completed: boolean;
  /** Resolves with the first `data` matching `test`. */
  waitFor(test: (data: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves with the first failure (an `error` message's errors, or a close event). */
  waitForFailure(timeoutMs?: number): Promise<any>;
  /** Resolves once `count` results have arrived. */
  waitForCount(count: number, timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

/** The WebSocket URL of a test server's graph. */
export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/graphql`;
}

/**
 * Connects to `httpUrl`'s `/graphql` with `token` in the `connection_init` payload (`null`: none)
 * and waits for the acknowledgement (or the close that refuses it).
 */
export async function connect(httpUrl: string, token: string | null, options: { waitForAck?: boolean } = {}): Promise<WsConnection> {
  let socket: WebSocket | undefined;
  let resolveClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => { resolveClosed = resolve; });
  let acked!: () => void;
  const ack = new Promise<void>((resolve) => { acked = resolve; });
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    onNonLazyError: () => undefined,
    on: {
      opened: (s) => { socket = s as WebSocket; },
      connected: () => acked(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason: String(reason) });
      },
    },
  });
  if (options.waitForAck !== false) await Promise.race([ack, closed]);
  return {
    client,
    closed,
    socket: () => {
      if (!socket) throw new Error('the socket is not open');
      return socket;
    },
    dispose: async () => { await client.dispose(); },
  };
}

/** Subscribes with `query` and `variables` and records what arrives. */
export function record(connection: WsConnection, query: string, variables: Record<string, unknown> = {}): Recorded {
  const data: any[] = [];
  const results: FormattedExecutionResult<any, unknown>[] = [];
  const failures: unknown[] = [];
  let completed = false;
  const waiters = new Set<() => void>();
  const notify = () => { for (const waiter of [...waiters]) waiter(); };
  const unsubscribe = connection.client.subscribe<any>({ query, variables }, {
    next: (result) => {
      results.push(result);
      if (result.data) data.push(result.data);
      notify();
    },
    error: (err) => {
      failures.push(err);
      notify();
    },
    complete: () => {
      completed = true;
      notify();
    },
  });
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${what} within ${timeoutMs} ms; got ${results.length} results and ${failures.length} failures, the last: ${JSON.stringify({ results: results.slice(-3), failures }).slice(0, 2000)}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  return {
    data,
    results,
    failures,
    get completed() { return completed; },
    waitFor: (test, timeoutMs = 10_000) => until(() => data.find(test), timeoutMs, 'no matching event'),
    waitForFailure: (timeoutMs = 10_000) => until(() => failures[0], timeoutMs, 'no failure'),
    waitForCount: async (count, timeoutMs = 10_000) => { await until(() => (results.length >= count ? true : undefined), timeoutMs, `fewer than ${count} results`); },
    unsubscribe,
  };
}
