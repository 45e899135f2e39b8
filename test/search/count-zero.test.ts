/**
 * Issue 15 (REST): `_count=0` returned an empty page without `total`; it acts as `_summary=count`
 * (https://hl7.org/fhir/R4/search.html#count: "_count=0 … return only the count").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  for (const family of ['Zero', 'Zero', 'Other']) {
    await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family }] } });
  }
});
afterAll(async () => { await t?.close(); });

describe('_count=0', () => {
  it('answers the total and no entries, like _summary=count', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient?family=Zero&_count=0`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.body.entry ?? []).toEqual([]);
    const summary = await fhirFetch(`${t.url}/fhir/Patient?family=Zero&_summary=count`);
    expect(summary.body.total).toBe(2);
  });

  it('counts at system level too', async () => {
    const res = await fhirFetch(`${t.url}/fhir?_type=Patient&_count=0`);
    expect(res.body.total).toBe(3);
  });
});
