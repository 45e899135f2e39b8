/**
 * Issue 14, item 7: rate limits used to count requests, not work, so a 5/s client read 30,000
 * resources in 10 s through three batch Bundles of 10,000 entries. A Bundle now pays one unit
 * per entry (one unit = one REST interaction), under the limiter's multi-unit rules.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fhirFetch, startTestServer, type FhirResponse, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;

beforeAll(async () => {
  // The product's default client limits (the test helper turns them off unless asked).
  t = await startTestServer({ rateLimit: { perSecond: 200, perMinute: 6_000 } });
});
afterAll(async () => { await t?.close(); });

function readBundle(type: 'batch' | 'transaction', entries: number, id: string) {
  return { resourceType: 'Bundle', type, entry: Array.from({ length: entries }, () => ({ request: { method: 'GET', url: `Patient/${id}` } })) };
}

describe('rate limits count work', () => {
  it('refuses a 10,000-entry batch from a 5/s client with 429, saying what it costs, and runs none of it', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const token = await t.tokenWithScope('system/*.read', { rate: '5/s' });
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: readBundle('batch', 10_000, patient.body.id) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.body.issue[0]).toMatchObject({ code: 'too-costly' });
    // 5 a second (the default per-minute limit of 6,000 does not raise it): at most 300 a minute.
    expect(res.body.issue[0].diagnostics).toMatch(/costs 10000 .*limit of 300 per minute/);
    // The client may go on with requests it can afford, once the limiter has found itself alone
    // on this new client and counts to the limit rather than to its first claim (a refusal costs nothing).
    let small!: FhirResponse;
    await vi.waitFor(async () => {
      small = await fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: readBundle('batch', 3, patient.body.id) });
      expect(small.status, small.text).toBe(200);
    }, { timeout: 20_000, interval: 200 });
    expect(small.body.entry).toHaveLength(3);
  });

  it("runs a default client's 1,000-entry transaction, then holds the client back until the work is paid for", async () => {
    const token = await t.tokenWithScope('system/*.*');
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: Array.from({ length: 1_000 }, (_, i) => ({ resource: { resourceType: 'Patient', name: [{ family: `Work${i}` }] }, request: { method: 'POST', url: 'Patient' } })),
    };
    const res = await fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: bundle });
    expect(res.status).toBe(200);
    expect(res.body.entry).toHaveLength(1_000);
    // 1,000 units against 200 a second: the next request waits for the debt of the next seconds.
    const next = await fhirFetch(`${t.url}/fhir/Patient?_count=1`, { token });
    expect(next.status).toBe(429);
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
    expect(Number(next.headers.get('retry-after'))).toBeLessThanOrEqual(6);
  });

  it('charges a batch per entry against the per-minute limit too', async () => {
    const patient = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient' } });
    const token = await t.tokenWithScope('system/*.read', { rate: '100/s,120/min' });
    expect((await fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: readBundle('batch', 100, patient.body.id) })).status).toBe(200);
    const over = await fhirFetch(`${t.url}/fhir`, { method: 'POST', token, body: readBundle('batch', 30, patient.body.id) });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.body.issue[0].code).toBe('throttled');
  });
});
