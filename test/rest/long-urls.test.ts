/**
 * Issue 14 item 12: requests refused before routing (a URL or headers over Node's limit, a path
 * segment over the router's, a broken percent-encoding) were answered with Fastify's JSON, which
 * echoed the URL — search values and all. They now get an OperationOutcome like every other error,
 * without the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

/** Stands for a search value a client would not want printed back (or logged). */
const SECRET = 'Secret-Value-7f3a';

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${t.adminToken}`, ...headers } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, body: JSON.parse(text) };
}

function expectOutcome(res: { status: number; type: string | null; text: string; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.type).toMatch(/^application\/fhir\+json/);
  expect(res.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code }] });
  expect(res.text).not.toContain(SECRET);
  expect(res.text).not.toContain('/fhir/Patient');
}

describe('requests refused before routing get an OperationOutcome that does not echo the URL', () => {
  it('answers 414 for a URL longer than the HTTP parser takes', async () => {
    expectOutcome(await get(`/fhir/Patient?name=${SECRET}${'x'.repeat(20_000)}`), 414, 'too-long');
  });

  it('answers 431 for headers larger than the HTTP parser takes', async () => {
    expectOutcome(await get(`/fhir/Patient?name=${SECRET}`, { 'x-padding': 'y'.repeat(20_000) }), 431, 'too-long');
  });

  it('answers 414 for a path segment longer than the router takes', async () => {
    expectOutcome(await get(`/fhir/Patient/${SECRET}${'a'.repeat(300)}`), 414, 'too-long');
  });

  it('answers 400 for a broken percent-encoding', async () => {
    expectOutcome(await get(`/fhir/Patient/${SECRET}%E0%A4%A`), 400, 'invalid');
  });

  it('keeps serving after each refusal', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
  });
});
