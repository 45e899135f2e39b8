/**
 * Issue 19: every answer carries an `X-Request-Id` (the client's when it is short and plain, else
 * a new UUID), browsers may read it, and every log line of the request carries it as
 * `requestId`; no line holds the token, the query string or the body. Log lines are read as the
 * server writes them (pino JSON through the logger's stream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

const APP = 'https://app.example.org';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let t: TestServer;
const logs: string[] = [];

beforeAll(async () => {
  t = await startTestServer({ logLevel: 'debug', corsOrigins: [APP] }, undefined, logs);
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** The JSON log lines of one request (by its id). */
function linesOf(requestId: string): Record<string, unknown>[] {
  return logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.requestId === requestId);
}

/** Waits for the request's `request` line (logged once its answer has been sent). */
async function requestLine(requestId: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = linesOf(requestId).find((l) => l.msg === 'request');
    if (line || Date.now() > deadline) return line ?? {};
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('X-Request-Id', () => {
  it('makes a UUID for a request without one, returns it and logs the request line with it', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?_count=1`);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(UUID);
    expect(await requestLine(id)).toMatchObject({ requestId: id, route: '/fhir/:type', status: 200, level: 20 });
  });

  it('keeps a client\'s short, plain id', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { headers: { 'x-request-id': 'client-req.42:a_b' } });
    expect(res.headers.get('x-request-id')).toBe('client-req.42:a_b');
    expect(await requestLine('client-req.42:a_b')).toMatchObject({ status: 200 });
  });

  it('replaces an id that is too long or holds other characters', async () => {
    for (const bad of ['x'.repeat(129), 'two words', 'tab\there', '{"json":1}', 'ünïcode']) {
      const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': bad } }).catch(() => undefined);
      if (!res) continue; // a value fetch itself refuses to send
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(UUID);
      expect(logs.join('\n')).not.toContain(bad.slice(0, 20));
    }
    expect(linesOf('x'.repeat(129))).toEqual([]);
  });

  it('is on every answer: 404s, OperationOutcomes, refusals before routing, CORS preflights', async () => {
    const unknownRoute = await fhirFetch(`${t.url}/nowhere`);
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.headers.get('x-request-id')).toMatch(UUID);
    const missing = await fhirFetch(`${t.url}/fhir/Patient/does-not-exist`, { headers: { 'x-request-id': 'missing-1' } });
    expect(missing.status).toBe(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
    expect(missing.headers.get('x-request-id')).toBe('missing-1');
    const unauthenticated = await fhirFetch(`${t.url}/fhir/Patient`, { token: null, headers: { 'x-request-id': 'no-token-1' } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('x-request-id')).toBe('no-token-1');
    const brokenUrl = await fetch(`${t.url}/fhir/Patient/%E0%A4%A`, { headers: { 'x-request-id': 'broken-1' } });
    expect(brokenUrl.status).toBe(400);
    expect(brokenUrl.headers.get('x-request-id')).toBe('broken-1');
    const preflight = await fetch(`${t.url}/fhir/Patient`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('x-request-id')).toMatch(UUID);
    const cors = await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { headers: { origin: APP } });
    expect(cors.headers.get('access-control-expose-headers')).toMatch(/(^|, )X-Request-Id(,|$)/);
  });

  it('logs no token, query string or body of a request', async () => {
    const secretQuery = 'Qsecretfamily7731';
    const secretBody = 'Bsecretfamily9902';
    const search = await fhirFetch(`${t.url}/fhir/Patient?family=${secretQuery}`, { headers: { 'x-request-id': 'search-1' } });
    expect(search.status).toBe(200);
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: secretBody }] }, headers: { 'x-request-id': 'create-1' } });
    expect(created.status).toBe(201);
    const bad = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', birthDate: secretBody }, headers: { 'x-request-id': 'bad-1' } });
    expect([400, 422]).toContain(bad.status);
    for (const id of ['search-1', 'create-1', 'bad-1']) expect(await requestLine(id)).toMatchObject({ requestId: id });
    const all = logs.join('\n');
    expect(all).not.toContain(secretQuery);
    expect(all).not.toContain(secretBody);
    expect(all).not.toContain(t.adminToken);
    expect(all).not.toContain('family=');
    // Every line logged through the request's logger carries its id.
    for (const line of logs.map((l) => JSON.parse(l) as Record<string, unknown>)) {
      if (line.msg === 'request' || line.msg === 'request failed') expect(line.requestId).toEqual(expect.any(String));
    }
  });
});
