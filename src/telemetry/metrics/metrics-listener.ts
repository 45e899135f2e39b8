/**
 * The metrics listener: a plain `node:http` server of its own (`METRICS_HOST`:`METRICS_PORT`)
 * answering `GET /metrics` in the Prometheus text format and 404 to anything else. None of the
 * API's hooks run on it: no token, no rate limit, no audit (CONTRACT.md "Running it"); keep it on
 * loopback or a network only Prometheus reaches.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A listening metrics server. */
export interface MetricsListener {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** Answers one request of the listener. */
function answer(registry: Registry, method: string | undefined, url: string | undefined, send: (status: number, type: string, body: string) => void): void {
  const path = url?.split('?', 1)[0];
  if (path !== '/metrics' || (method !== 'GET' && method !== 'HEAD')) {
    send(404, 'text/plain; charset=utf-8', 'Not found: scrape GET /metrics\n');
    return;
  }
  registry.metrics().then(
    (text) => send(200, registry.contentType, text),
    () => send(500, 'text/plain; charset=utf-8', 'collecting the metrics failed\n'),
  );
}

/** Starts serving `registry` on `host`:`port` (`0` here: any free port). */
export async function listenForMetrics(registry: Registry, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    answer(registry, request.method, request.url, (status, type, body) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
  });
  // A scraper keeps its connection open between scrapes; closing must not wait for it.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
