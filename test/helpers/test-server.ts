/**
 * Starts the real server (HTTP on loopback, real PostgreSQL) for a test file, on a database of
 * its own, and offers small `fetch` helpers that speak FHIR JSON.
 */
import { createServer } from 'node:net';
import { loadConfig, type Config } from '../../src/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/http/start-server.ts';
import { createClient, type CreateClientInput } from '../../src/auth/client-admin.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `PUBLIC_URL/fhir`, as it appears in links and Location headers. */
  fhirBase: string;
  server: RunningServer;
  config: Config;
  databaseUrl: string;
  /** An admin client with `system/*.*` whose token {@link fhirFetch} sends by default. */
  adminToken: string;
  /** Creates a client directly through the service (like the CLI). */
  createClient(input: CreateClientInput): Promise<{ client_id: string; refresh_token?: string }>;
  /** Exchanges a refresh token for an access token over HTTP; `scope` narrows it. */
  tokenFor(refreshToken: string, scope?: string): Promise<string>;
  /** Creates an API-key client and returns an access token for it. */
  tokenWithScope(scope: string, extra?: Partial<CreateClientInput>): Promise<string>;
  close(): Promise<void>;
}

let defaultToken: string | undefined;

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

/**
 * Starts a server on a fresh database; `overrides` tweak the configuration; `logs` receives the
 * server's log lines (at `overrides.logLevel`), else they are silenced unless `TEST_LOGS=1`;
 * `extraRoutes` mounts test or bench routes beside the API (`startServer`'s option).
 */
export async function startTestServer(
  overrides: Partial<Config> = {}, database?: TestDatabase, logs?: string[], extraRoutes?: StartOptions['extraRoutes'],
): Promise<TestServer> {
  const db = database ?? (await createTestDatabase());
  const port = await freePort();
  const config = loadConfig({}, { databaseUrl: db.databaseUrl, port, host: '127.0.0.1', publicUrl: `http://127.0.0.1:${port}`,
    // No default client limit in tests (the rate-limit tests set their own), so suites run at full speed.
    rateLimit: { perSecond: 0, perMinute: 0 },
    // Metrics off unless a test asks (`metrics: { host, port: 'ephemeral' }`): servers run side by side.
    metrics: { host: '127.0.0.1', port: 0 }, ...overrides });
  const logger = logs ? { write: (line: string) => { logs.push(line); } } : process.env.TEST_LOGS === '1';
  const server = await startServer(config, { logger, extraRoutes });
  const create = (input: CreateClientInput) => createClient(server.service.db, input);
  const tokenFor = async (refreshToken: string, scope?: string): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    if (scope) form.set('scope', scope);
    const response = await fetch(`${server.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const body = (await response.json()) as { access_token?: string };
    if (!response.ok || !body.access_token) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };
  const tokenWithScope = async (scope: string, extra: Partial<CreateClientInput> = {}) => {
    const client = await create({ name: `test ${scope}`, scope, ...extra });
    return tokenFor(client.refresh_token!);
  };
  const adminToken = await tokenWithScope('system/*.*', { admin: true, name: 'test admin' });
  defaultToken = adminToken;
  return {
    url: server.url,
    fhirBase: `${config.publicUrl}/fhir`,
    server,
    config,
    databaseUrl: db.databaseUrl,
    adminToken,
    createClient: create,
    tokenFor,
    tokenWithScope,
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

/**
 * Sends a request and parses a JSON answer (if any). It sends the last started test server's
 * admin token unless `token` says otherwise (`null`: no Authorization header).
 */
export async function fhirFetch<T = any>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<FhirResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? defaultToken : init.token;
  if (token && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
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
