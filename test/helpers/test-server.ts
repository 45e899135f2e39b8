/**
 * Starts the real server (HTTP on loopback, real PostgreSQL) for a test file, on a database of
 * its own, and offers small `fetch` helpers that speak FHIR JSON.
 */
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/http/start-server.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `PUBLIC_URL/fhir`, as it appears in links and Location headers. */
  fhirBase: string;
  server: RunningServer;
  config: Config;
  databaseUrl: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a server on a fresh database; `overrides` tweak the configuration. */
export async function startTestServer(overrides: Partial<Config> = {}, database?: TestDatabase): Promise<TestServer> {
  const db = database ?? (await createTestDatabase());
  const port = await freePort();
  const config = loadConfig({}, { databaseUrl: db.databaseUrl, port, host: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}`, ...overrides });
  const server = await startServer(config, { logger: false });
  return {
    url: server.url,
    fhirBase: `${config.publicUrl}/fhir`,
    server,
    config,
    databaseUrl: db.databaseUrl,
    async close() {
      await server.close();
      if (!database) await db.drop();
    },
  };
}

export interface FhirResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Sends a request and parses a JSON answer (if any). */
export async function fhirFetch<T = any>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<FhirResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/fhir+json';
  }
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body });
  const text = await response.text();
  let parsed: any = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
