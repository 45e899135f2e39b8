/**
 * Issue 15, "Browsers": a browser app (the frontend teams this graph is for) could not call
 * `/graphql`, `/fhir` or `/auth/token`: no CORS. `CORS_ORIGINS` now lists the origins allowed
 * (none by default, or `*`); a preflight is answered without a token, is not charged to any rate
 * limit and leaves no AuditEvent; `Authorization` and the FHIR request headers are allowed, and
 * the headers a FHIR client reads (`Location`, `ETag`, `Content-Location`, `X-Progress`,
 * `Retry-After`, `RateLimit-*`) exposed. Tested with real preflight requests, as a browser sends
 * them (https://fetch.spec.whatwg.org/#http-cors-protocol).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const APP = 'https://app.example.org';
const OTHER = 'https://evil.example.net';

let t: TestServer;
let patientId: string;

beforeAll(async () => {
  t = await startTestServer({ corsOrigins: [APP, 'http://localhost:3000'] });
  patientId = (await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Browser' }] } })).body.id;
}, 60_000);
afterAll(async () => { await t?.close(); });

/** A preflight as a browser sends it: no credentials, the method and headers it wants to use. */
function preflight(path: string, origin: string | undefined, method: string, headers: string[]): Promise<Response> {
  return fetch(`${t.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      ...(origin ? { origin } : {}),
      'access-control-request-method': method,
      ...(headers.length ? { 'access-control-request-headers': headers.join(',') } : {}),
    },
  });
}

const list = (value: string | null) => (value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);

async function refusedTokenEvents(): Promise<number> {
  await t.server.security.auditLog.flush();
  const trail = await fhirFetch(`${t.url}/fhir/AuditEvent/_history?_count=1000`, { token: t.adminToken });
  return (trail.body.entry ?? []).filter((e: any) => e.resource.outcome !== '0').length;
}

describe('preflight from an allowed origin', () => {
  it('is answered 204 without a token on /graphql, /fhir and /auth/token, allowing the FHIR request headers', async () => {
    const failuresBefore = await refusedTokenEvents();
    for (const [path, method, headers] of [
      ['/graphql', 'POST', ['authorization', 'content-type']],
      ['/fhir/$graphql', 'GET', ['authorization']],
      [`/fhir/Patient/${patientId}`, 'PUT', ['authorization', 'content-type', 'if-match', 'prefer']],
      ['/fhir/Patient', 'POST', ['authorization', 'content-type', 'if-none-exist', 'prefer']],
      [`/fhir/Patient/${patientId}`, 'GET', ['authorization', 'if-none-match']],
      ['/auth/token', 'POST', ['content-type']],
    ] as const) {
      const res = await preflight(path, APP, method, [...headers]);
      expect(res.status, `${method} ${path}`).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(list(res.headers.get('access-control-allow-methods'))).toContain(method.toLowerCase());
      expect(list(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining([...headers]));
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
    // No refused-token AuditEvent (a preflight carries no token), and no rate limit consumed.
    expect(await refusedTokenEvents()).toBe(failuresBefore);
  });

  it('is never rate-limited, nor charged to the token endpoint\'s per-address limit', async () => {
    // 300 preflights at once, far beyond TOKEN_RATE_LIMIT_PER_SECOND (20) from this address.
    const answers = await Promise.all(Array.from({ length: 300 }, () => preflight('/auth/token', APP, 'POST', ['content-type'])));
    expect(new Set(answers.map((res) => res.status))).toEqual(new Set([204]));
    const { refresh_token } = await t.createClient({ name: 'browser app', scope: 'system/Patient.rs' });
    expect(await t.tokenFor(refresh_token!)).toBeTruthy();
  });
});

describe('requests from an allowed origin', () => {
  it('lets the app read the answer and the headers a FHIR client needs', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', headers: { origin: APP }, body: { resourceType: 'Patient', name: [{ family: 'Tab' }] } });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(APP);
    expect(created.headers.get('vary')).toMatch(/origin/i);
    expect(list(created.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(
      ['location', 'etag', 'content-location', 'last-modified', 'x-progress', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    ));
    const graph = await fhirFetch(`${t.url}/graphql`, {
      method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ Patient(id: "${patientId}") { id } }` }),
    });
    expect(graph.body.data.Patient.id).toBe(patientId);
    expect(graph.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const token = await fetch(`${t.url}/auth/token`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nonsense' });
    expect(token.status).toBe(400);
    expect(token.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('lets the app read a refusal: 401 without a token carries the CORS headers', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${patientId}`, { headers: { origin: APP }, token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(res.headers.get('access-control-expose-headers'))).toContain('www-authenticate');
  });
});

describe('other origins, and no origin', () => {
  it('gives a disallowed origin no Access-Control-Allow-Origin, on preflight or request', async () => {
    const pre = await preflight('/graphql', OTHER, 'POST', ['authorization', 'content-type']);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fhirFetch(`${t.url}/fhir/Patient/${patientId}`, { headers: { origin: OTHER } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers requests without an Origin as before, with no CORS headers', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/${patientId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const options = await preflight('/graphql', undefined, 'POST', []);
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds no CORS headers outside /graphql, /fhir and /auth', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ORIGINS', () => {
  it('defaults to no origin, takes a comma-separated list of exact origins or *', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: ' https://app.example.org , http://localhost:3000/ ' }).corsOrigins).toEqual(['https://app.example.org', 'http://localhost:3000']);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it('refuses at start what is no origin (a path, a scheme other than http and https, a pattern)', () => {
    for (const bad of ['https://app.example.org/path', 'app.example.org', 'ftp://files.example.org', 'https://*.example.org', 'https://a.example.org,*']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
